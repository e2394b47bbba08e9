/* gen_cli.c - see gen_cli.h. */
#include "gen_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gio_read.h"
#include "model_cli.h"

int gen_cli_apply(gen_cli *o, gio_opt *p, int c)
{
    long long x;
    double d;
    switch (c) {
    case GEN_OPT_SHOW: o->show_analysis = 1; return 1;
    case GEN_OPT_SYSTEM: o->system = p->arg; return 1;
    case GEN_OPT_TOOLS: o->tools = p->arg; return 1;
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

int gen_cli_load_tools(const gen_cli *o, const gio_opt *p, char **json)
{
    *json = NULL;
    if (!o->tools)
        return 0;
    int rc = gio_check_file(p, o->tools, "a JSON file of tool definitions");
    if (rc)
        return rc;
    char why[1024];
    size_t len = 0;
    char *d = gio_read_file(o->tools, (size_t)64 << 20, &len, why, sizeof why);
    if (!d)
        return gio_fail(p, GIO_EXIT_IO, "%s", why);
    cJSON *j = cJSON_ParseWithLength(d, len);
    int ok = cJSON_IsArray(j);
    cJSON_Delete(j);
    if (!ok) {
        free(d);
        return gio_fail(p, GIO_EXIT_BAD_INPUT, "--tools %s: not a JSON array of tool definitions "
                        "[{\"type\": \"function\", \"function\": {\"name\", \"description\", \"parameters\"}}]",
                        o->tools);
    }
    *json = d;
    return 0;
}

cJSON *gen_cli_call_json(const char *recipient, const char *type, const char *args)
{
    cJSON *c = cJSON_CreateObject();
    if (!c)
        return NULL;
    const char *name = !strncmp(recipient, "functions.", 10) ? recipient + 10 : recipient;
    cJSON_AddItemToObject(c, "recipient", gio_json_utf8(recipient, strlen(recipient), NULL));
    cJSON_AddItemToObject(c, "name", gio_json_utf8(name, strlen(name), NULL));
    cJSON_AddItemToObject(c, "content_type", gio_json_utf8(type, strlen(type), NULL));
    cJSON_AddItemToObject(c, "arguments", gio_json_utf8(args, strlen(args), NULL));
    return c;
}
