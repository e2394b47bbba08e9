/* test_safetensors_python.c - files written by an independent producer
 * (write_st.py: python stdlib, straight from the format description) must
 * read back with the values the script wrote. Skipped without python3. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "safetensors.h"

static void check_values(const st_checkpoint *ck, int sharded)
{
    CHECK(st_count(ck) == 6);
    CHECK(st_shard_count(ck) == (size_t)(sharded ? 2 : 1));
    const st_tensor *t = st_find(ck, "model.layers.0.weight");
    CHECK(t && t->dtype == ST_F32 && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4);
    if (t)
        for (int i = 0; i < 12; i++) {
            float f;
            memcpy(&f, (const uint8_t *)t->data + 4 * i, 4);
            CHECK_MSG(f == i * 0.5f - 3.0f, "weight[%d] = %g", i, f);
        }
    t = st_find(ck, "model.layers.0.bias");
    CHECK(t && t->dtype == ST_BF16 && t->nbytes == 16);
    if (t)
        for (int i = 0; i < 8; i++) {
            uint16_t h;
            memcpy(&h, (const uint8_t *)t->data + 2 * i, 2);
            uint32_t u = (uint32_t)h << 16;
            float f;
            memcpy(&f, &u, 4);
            CHECK(f == (float)(i + 1));
        }
    t = st_find(ck, "blocks");
    CHECK(t && t->dtype == ST_U8 && t->ndim == 3 && t->shape[2] == 4);
    if (t)
        for (int i = 0; i < 16; i++)
            CHECK(((const uint8_t *)t->data)[i] == i);
    t = st_find(ck, "ids");
    int64_t v[2] = {0, 0};
    if (t)
        memcpy(v, t->data, 16);
    CHECK(t && t->dtype == ST_I64 && v[0] == -1 && v[1] == (int64_t)1 << 40);
    t = st_find(ck, "half");
    uint16_t h[3] = {0, 0, 0};
    if (t)
        memcpy(h, t->data, 6);
    CHECK(t && t->dtype == ST_F16 && h[0] == 0x3C00 && h[1] == 0xC000 && h[2] == 0x3800);
    t = st_find(ck, "scalar_empty");
    CHECK(t && t->nbytes == 0 && t->shape[0] == 0 && t->shape[1] == 5);
}

int main(void)
{
    const char *src = getenv("GQ_SOURCE_DIR");
    if (!src || system("python3 -c 'import json' >/dev/null 2>&1") != 0) {
        printf("test_safetensors_python: skipped (no python3 or GQ_SOURCE_DIR)\n");
        return CHECK_SKIP;
    }
    char dir[256], cmd[2048], p[512], err[512];
    snprintf(dir, sizeof dir, "/tmp/gq_stpy_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/safetensors/write_st.py' '%s/model.safetensors' && "
             "mkdir -p '%s/sh' && python3 '%s/tests/safetensors/write_st.py' --sharded '%s/sh'",
             src, dir, dir, src, dir);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    st_checkpoint *ck = st_open(p, err, sizeof err);
    CHECK_MSG(ck != NULL, "%s", err);
    if (ck)
        check_values(ck, 0);
    st_close(ck);
    snprintf(p, sizeof p, "%s/sh", dir);
    ck = st_open(p, err, sizeof err);
    CHECK_MSG(ck != NULL, "%s", err);
    if (ck)
        check_values(ck, 1);
    st_close(ck);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done("test_safetensors_python");
}
