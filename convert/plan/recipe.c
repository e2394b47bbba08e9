/* recipe.c - --quant recipes and per-class overrides (see plan.h). */
#include <stdio.h>
#include <string.h>

#include "plan.h"

const char *cv_class_name(cv_class c)
{
    static const char *names[CV_CLASS_COUNT] = {"embed", "attn", "head", "experts", "f32"};
    return (unsigned)c < CV_CLASS_COUNT ? names[c] : "?";
}

/* A type a recipe may choose (bf16, q8 / q8_32, q4 / q4_32, mxfp4: the
 * traits rows marked GQ_USE_RECIPE), by any of its names; NULL otherwise. */
static const gq_traits *recipe_type(const char *s)
{
    const gq_traits *tr = gq_traits_by_name(s);
    return tr && (tr->uses & GQ_USE_RECIPE) ? tr : NULL;
}

/* "bf16, q8 or q4": the recipe types that have every bit of `uses`, in
 * table order, for messages. */
static const char *type_list(unsigned uses, char *buf, size_t len)
{
    const char *name[GQ_TYPE_COUNT];
    int n = 0;
    for (int i = 0; i < GQ_TYPE_COUNT; i++) {
        const gq_traits *tr = gq_traits_of((gq_type)i);
        if ((tr->uses & GQ_USE_RECIPE) && (tr->uses & uses) == uses)
            name[n++] = tr->short_name;
    }
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < len; i++) {
        int k = snprintf(buf + at, len - at, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", name[i]);
        at += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

int cv_recipe_make(cv_recipe *r, const char *quant, const char *embed, const char *attn,
                   const char *head, const char *experts, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    char list[128];
    const gq_traits *q = recipe_type(quant ? quant : "mxfp4");
    if (!q) {
        snprintf(err, errlen, "unknown --quant '%s' (expected %s)", quant, type_list(GQ_USE_EXPERTS, list, sizeof list));
        return -1;
    }
    /* The experts take the recipe's format; the dense weights too, unless
     * the format cannot hold them (mxfp4): then they stay bf16, exact for
     * the checkpoint's own bf16 weights. */
    gq_type exp = q->type, rest = (q->uses & GQ_USE_DENSE) ? q->type : GQ_BF16;
    snprintf(r->name, sizeof r->name, "%s", q->short_name);
    r->type[CV_CLASS_EMBED] = r->type[CV_CLASS_ATTN] = r->type[CV_CLASS_HEAD] = rest;
    r->type[CV_CLASS_EXPERTS] = exp;
    r->type[CV_CLASS_F32] = GQ_F32;

    const char *over[4] = {embed, attn, head, experts};
    const cv_class cls[4] = {CV_CLASS_EMBED, CV_CLASS_ATTN, CV_CLASS_HEAD, CV_CLASS_EXPERTS};
    for (int i = 0; i < 4; i++) {
        if (!over[i])
            continue;
        unsigned need = cls[i] == CV_CLASS_EXPERTS ? GQ_USE_EXPERTS : GQ_USE_DENSE;
        const gq_traits *t = recipe_type(over[i]);
        if (!t) {
            snprintf(err, errlen, "--%s: unknown type '%s' (expected %s)", cv_class_name(cls[i]), over[i],
                     type_list(need, list, sizeof list));
            return -1;
        }
        if (!(t->uses & need)) {
            /* mxfp4: only the experts come as MXFP4 (quant.h GQ_USE_DENSE) */
            snprintf(err, errlen, "--%s %s: only the experts can be %s (use %s)", cv_class_name(cls[i]),
                     t->short_name, t->short_name, type_list(GQ_USE_DENSE, list, sizeof list));
            return -1;
        }
        if (t->type != r->type[cls[i]]) {
            /* name the override: "q8,experts=mxfp4" */
            size_t l = strlen(r->name);
            snprintf(r->name + l, sizeof r->name - l, ",%s=%s", cv_class_name(cls[i]), t->short_name);
        }
        r->type[cls[i]] = t->type;
    }
    return 0;
}
