/* gen_cli.c - see gen_cli.h. */
#include "gen_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cli.h"

static int bad(const char *cmd, const char *opt, const char *val)
{
    fprintf(stderr, "%s: bad value for %s: '%s'\n", cmd, opt, val);
    return -1;
}

int gen_cli_option(gen_cli *o, const char *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--show-analysis")) {
        o->show_analysis = 1;
        return 1;
    }
    int takes_value = !strcmp(a, "--system") || !strcmp(a, "--reasoning") || !strcmp(a, "--temperature") ||
                      !strcmp(a, "--top-p") || !strcmp(a, "--seed") || !strcmp(a, "-n") || !strcmp(a, "--ctx") ||
                      !strcmp(a, "--threads") || !strcmp(a, "--backend");
    if (!takes_value)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", cmd, a);
        return -1;
    }
    const char *v = argv[++*i];
    char *end;
    if (!strcmp(a, "--system")) {
        o->system = v;
    } else if (!strcmp(a, "--backend")) {
        mc_opts mo = {0};
        if (mc_backend_option(&mo, cmd + strlen("gptoss-run "), v) != 0)
            return -1;
        o->backend = mo.backend;
    } else if (!strcmp(a, "--reasoning")) {
        if (strcmp(v, "low") && strcmp(v, "medium") && strcmp(v, "high"))
            return bad(cmd, a, v);
        o->reasoning = v;
    } else if (!strcmp(a, "--temperature")) {
        double x = strtod(v, &end);
        if (*end || !(x >= 0))
            return bad(cmd, a, v);
        o->temperature = x;
    } else if (!strcmp(a, "--top-p")) {
        double x = strtod(v, &end);
        if (*end || !(x > 0 && x <= 1))
            return bad(cmd, a, v);
        o->top_p = x;
    } else if (!strcmp(a, "--seed")) {
        o->seed = strtoull(v, &end, 10);
        if (*end || !*v)
            return bad(cmd, a, v);
    } else {
        int x = mc_parse_int(v, 1, 1 << 20);
        if (x < 0)
            return bad(cmd, a, v);
        *(!strcmp(a, "-n") ? &o->n : !strcmp(a, "--ctx") ? &o->ctx : &o->threads) = x;
    }
    return 1;
}
