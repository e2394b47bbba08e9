/* gd_ops_install.c - the op table every GPU host shares (gd_ops.h). */
#include "gd_ops.h"

void gd_ops_install(gb_backend *b)
{
    b->embed = gd_op_embed;
    b->rmsnorm = gd_op_rmsnorm;
    b->matmul = gd_op_matmul;
    b->rope = gd_op_rope;
    b->attention = gd_op_attention;
    b->kv_store = gd_op_kv_store;
    b->moe = gd_op_moe;
    b->add = gd_op_add;
    b->score = gd_op_score;
    b->read_bandwidth = gd_op_read_bandwidth;
}
