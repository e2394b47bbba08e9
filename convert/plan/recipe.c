/* recipe.c - --quant recipes and per-class overrides (see plan.h). */
#include <stdio.h>
#include <string.h>

#include "plan.h"

const char *cv_class_name(cv_class c)
{
    static const char *names[CV_CLASS_COUNT] = {"embed", "attn", "head", "experts", "f32"};
    return (unsigned)c < CV_CLASS_COUNT ? names[c] : "?";
}

/* A user-facing type name: bf16, q8 / q8_32, q4 / q4_32, mxfp4. */
static int parse_type(const char *s, gq_type *out)
{
    const gq_traits *tr = gq_traits_by_name(s);
    if (!tr)
        return -1;
    if (tr->type != GQ_BF16 && tr->type != GQ_Q8_32 && tr->type != GQ_Q4_32 && tr->type != GQ_MXFP4)
        return -1;
    *out = tr->type;
    return 0;
}

int cv_recipe_make(cv_recipe *r, const char *quant, const char *embed, const char *attn,
                   const char *head, const char *experts, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    gq_type rest, exp;
    if (!quant || !strcmp(quant, "mxfp4")) {
        rest = GQ_BF16;
        exp = GQ_MXFP4;
        snprintf(r->name, sizeof r->name, "mxfp4");
    } else if (!strcmp(quant, "q8") || !strcmp(quant, "q8_32")) {
        rest = exp = GQ_Q8_32;
        snprintf(r->name, sizeof r->name, "q8");
    } else if (!strcmp(quant, "q4") || !strcmp(quant, "q4_32")) {
        rest = exp = GQ_Q4_32;
        snprintf(r->name, sizeof r->name, "q4");
    } else if (!strcmp(quant, "bf16")) {
        rest = exp = GQ_BF16;
        snprintf(r->name, sizeof r->name, "bf16");
    } else {
        snprintf(err, errlen, "unknown --quant '%s' (expected mxfp4, q8 or q4)", quant);
        return -1;
    }
    r->type[CV_CLASS_EMBED] = r->type[CV_CLASS_ATTN] = r->type[CV_CLASS_HEAD] = rest;
    r->type[CV_CLASS_EXPERTS] = exp;
    r->type[CV_CLASS_F32] = GQ_F32;

    const char *over[4] = {embed, attn, head, experts};
    const cv_class cls[4] = {CV_CLASS_EMBED, CV_CLASS_ATTN, CV_CLASS_HEAD, CV_CLASS_EXPERTS};
    for (int i = 0; i < 4; i++) {
        if (!over[i])
            continue;
        gq_type t;
        if (parse_type(over[i], &t)) {
            snprintf(err, errlen, "--%s: unknown type '%s' (expected bf16, q8, q4%s)",
                     cv_class_name(cls[i]), over[i], cls[i] == CV_CLASS_EXPERTS ? " or mxfp4" : "");
            return -1;
        }
        if (t == GQ_MXFP4 && cls[i] != CV_CLASS_EXPERTS) {
            /* Only the experts come as MXFP4; re-encoding bf16 weights to
             * FP4 would lose far more than q4_32 does. */
            snprintf(err, errlen, "--%s mxfp4: only the experts can be mxfp4 (use bf16, q8 or q4)",
                     cv_class_name(cls[i]));
            return -1;
        }
        if (t != r->type[cls[i]]) {
            /* name the override: "q8,experts=mxfp4" */
            size_t l = strlen(r->name);
            snprintf(r->name + l, sizeof r->name - l, ",%s=%s", cv_class_name(cls[i]),
                     t == GQ_MXFP4 ? "mxfp4" : t == GQ_Q8_32 ? "q8" : t == GQ_Q4_32 ? "q4" : "bf16");
        }
        r->type[cls[i]] = t;
    }
    return 0;
}
