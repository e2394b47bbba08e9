/* gen_cli.c - see gen_cli.h. */
#include "gen_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cli.h"

int gen_cli_apply(gen_cli *o, gio_opt *p, int c)
{
    long long x;
    double d;
    switch (c) {
    case GEN_OPT_SHOW: o->show_analysis = 1; return 1;
    case GEN_OPT_SYSTEM: o->system = p->arg; return 1;
    case GEN_OPT_BACKEND: {
        mc_opts mo = {0};
        if (strcmp(p->arg, "cpu") && strcmp(p->arg, "vulkan") && strcmp(p->arg, "metal") && strcmp(p->arg, "auto")) {
            gio_fail(p, GIO_EXIT_USAGE, "--backend takes cpu, vulkan, metal or auto, not '%s'", p->arg);
            return -1;
        }
        if (mc_backend_option(&mo, p->cmd + strlen("gptoss-run "), p->arg) != 0)
            return -1;
        o->backend = mo.backend;
        return 1;
    }
    case GEN_OPT_REASONING:
        if (strcmp(p->arg, "low") && strcmp(p->arg, "medium") && strcmp(p->arg, "high")) {
            gio_fail(p, GIO_EXIT_USAGE, "--reasoning must be low, medium or high, not '%s'", p->arg);
            return -1;
        }
        o->reasoning = p->arg;
        return 1;
    case GEN_OPT_TEMP:
        if (gio_opt_double(p, 0, 100, &d))
            return -1;
        o->temperature = d;
        return 1;
    case GEN_OPT_TOP_P:
        if (gio_opt_double(p, 0, 1, &d))
            return -1;
        if (!(d > 0)) {
            gio_fail(p, GIO_EXIT_USAGE, "--top-p must be in 0..1 and above 0, not '%s'", p->arg);
            return -1;
        }
        o->top_p = d;
        return 1;
    case 's': {
        char *end;
        if (!p->arg[0] || p->arg[0] == '-' || (o->seed = strtoull(p->arg, &end, 10), *end)) {
            gio_fail(p, GIO_EXIT_USAGE, "%s must be an integer in 0..18446744073709551615, not '%s'", p->name,
                     p->arg);
            return -1;
        }
        return 1;
    }
    case 'n':
    case 'c':
    case 't':
        if (gio_opt_int(p, 1, 1 << 20, &x))
            return -1;
        *(c == 'n' ? &o->n : c == 'c' ? &o->ctx : &o->threads) = (int)x;
        return 1;
    }
    return 0;
}
