/* vk_pipeline.c - kernels to pipelines, and the pipeline cache on disk.
 *
 * One descriptor set layout and pipeline layout per argument count (the
 * binding convention of gd.h: bindings 0..n-1 are storage buffers,
 * 128 bytes of push constants); one pipeline per kernel, made on first use.
 * Where the device runs the tensor-core kernels (vk_ctx.coopmat), a kernel
 * asked for as <k> is built from cm_<k> when the build has one (the same
 * dispatch contract: gemm_body.glsl), so the ops never know.
 * The driver's pipeline cache is kept in $XDG_CACHE_HOME/gptoss (else
 * ~/.cache/gptoss), one file per device and driver; GQ_VK_PIPELINE_CACHE=0
 * turns it off. A missing, foreign or damaged file only costs compile time:
 * its header is checked before the driver sees it, and writing it back is
 * best effort (a temporary file renamed over the old one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_internal.h"
#include "vk_kernels.h"

const vk_kernel *vk_kernel_find(const char *name)
{
    for (int i = 0; i < vk_kernel_count; i++)
        if (!strcmp(vk_kernel_table[i].name, name))
            return &vk_kernel_table[i];
    return NULL;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            int r = mkdir(path, 0755);
            *p = '/';
            if (r && errno != EEXIST)
                return -1;
        }
    return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

static void cache_path(vk_ctx *c)
{
    c->cache_path[0] = 0;
    const char *off = getenv("GQ_VK_PIPELINE_CACHE");
    if (off && !strcmp(off, "0"))
        return;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[900];
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/gptoss", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/gptoss", home);
    else
        return;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", c->props.pipelineCacheUUID[i]);
    snprintf(c->cache_path, sizeof c->cache_path, "%s/vulkan-%04x-%04x-%s.bin", dir, c->props.vendorID,
             c->props.deviceID, uuid);
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* The file's bytes if its header is this device's (VkPipelineCacheHeaderVersionOne), else NULL. */
static uint8_t *cache_read(vk_ctx *c, size_t *len)
{
    *len = 0;
    if (!c->cache_path[0])
        return NULL;
    FILE *fp = fopen(c->cache_path, "rb");
    if (!fp)
        return NULL;
    uint8_t *data = NULL;
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 32 && n < (256l << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, fp) == (size_t)n && le32(data) >= 32 &&
        le32(data + 4) == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && le32(data + 8) == c->props.vendorID &&
        le32(data + 12) == c->props.deviceID && !memcmp(data + 16, c->props.pipelineCacheUUID, VK_UUID_SIZE)) {
        fclose(fp);
        *len = (size_t)n;
        return data;
    }
    fclose(fp);
    free(data);
    return NULL;
}

static void cache_write(vk_ctx *c)
{
    if (!c->cache_path[0] || !c->cache)
        return;
    size_t n = 0;
    if (c->f.vkGetPipelineCacheData(c->dev, c->cache, &n, NULL) != VK_SUCCESS || n == 0)
        return;
    uint8_t *data = malloc(n);
    if (!data)
        return;
    if (c->f.vkGetPipelineCacheData(c->dev, c->cache, &n, data) == VK_SUCCESS) {
        char dir[sizeof c->cache_path], tmp[sizeof c->cache_path + 32];
        snprintf(dir, sizeof dir, "%s", c->cache_path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", c->cache_path, (long)getpid());
        FILE *fp = NULL;
        if (mkdirs(dir) == 0 && (fp = fopen(tmp, "wb"))) {
            int ok = fwrite(data, 1, n, fp) == n;
            ok = fclose(fp) == 0 && ok;
            if (!ok || rename(tmp, c->cache_path) != 0)
                remove(tmp);
        }
    }
    free(data);
}

gb_status vk_pipelines_init(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    cache_path(c);
    size_t len = 0;
    uint8_t *data = cache_read(c, &len);
    VkPipelineCacheCreateInfo ci = {VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, NULL, 0, len, data};
    VkResult r = c->f.vkCreatePipelineCache(c->dev, &ci, NULL, &c->cache);
    if (r != VK_SUCCESS && data) {
        /* the driver refused the data: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        len = 0;
        r = c->f.vkCreatePipelineCache(c->dev, &ci, NULL, &c->cache);
    }
    free(data);
    c->cache_loaded = len;
    if (r != VK_SUCCESS)
        c->cache = VK_NULL_HANDLE; /* pipelines are made without a cache */
    for (int n = 0; n <= GD_MAX_ARGS; n++) {
        VkDescriptorSetLayoutBinding bind[GD_MAX_ARGS];
        for (int i = 0; i < n; i++) {
            VkDescriptorSetLayoutBinding x = {(uint32_t)i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                              VK_SHADER_STAGE_COMPUTE_BIT, NULL};
            bind[i] = x;
        }
        VkDescriptorSetLayoutCreateInfo li = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, NULL, 0,
                                              (uint32_t)n, n ? bind : NULL};
        r = c->f.vkCreateDescriptorSetLayout(c->dev, &li, NULL, &c->dsl[n]);
        if (r != VK_SUCCESS)
            return vk_fail(b, vk_status_of(r), "vulkan: creating a descriptor set layout failed (%s)",
                           vk_result_name(r));
        VkPushConstantRange pc = {VK_SHADER_STAGE_COMPUTE_BIT, 0, GD_PUSH_WORDS * 4};
        VkPipelineLayoutCreateInfo pi = {VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, NULL, 0, 1, &c->dsl[n], 1, &pc};
        r = c->f.vkCreatePipelineLayout(c->dev, &pi, NULL, &c->layout[n]);
        if (r != VK_SUCCESS)
            return vk_fail(b, vk_status_of(r), "vulkan: creating a pipeline layout failed (%s)", vk_result_name(r));
    }
    return GB_OK;
}

void vk_pipelines_destroy(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!c->dev)
        return;
    if (c->n_pipes)
        cache_write(c);
    for (int i = 0; i < c->n_pipes; i++)
        c->f.vkDestroyPipeline(c->dev, c->pipes[i].pipe, NULL);
    free(c->pipes);
    c->pipes = NULL;
    c->n_pipes = 0;
    for (int n = 0; n <= GD_MAX_ARGS; n++) {
        if (c->layout[n])
            c->f.vkDestroyPipelineLayout(c->dev, c->layout[n], NULL);
        if (c->dsl[n])
            c->f.vkDestroyDescriptorSetLayout(c->dev, c->dsl[n], NULL);
    }
    if (c->cache)
        c->f.vkDestroyPipelineCache(c->dev, c->cache, NULL);
    c->cache = VK_NULL_HANDLE;
}

gb_status vk_pipeline_get(gb_backend *b, const char *kernel, int n_args, VkPipeline *out, vk_pipe **entry)
{
    vk_ctx *c = vk_ctx_of(b);
    for (int i = 0; i < c->n_pipes; i++)
        if (!strcmp(c->pipes[i].req, kernel)) {
            if (c->pipes[i].n_args != n_args)
                return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s dispatched with %d arguments, earlier with %d",
                               kernel, n_args, c->pipes[i].n_args);
            *out = c->pipes[i].pipe;
            *entry = &c->pipes[i];
            return GB_OK;
        }
    const vk_kernel *k = vk_kernel_find(kernel), *run = k;
    if (!k)
        return vk_fail(b, GB_ERR_UNSUPPORTED, "vulkan: no kernel named %s in this build (kernels/shaders/%s.comp)",
                       kernel, kernel);
    if (c->coopmat) {
        /* the tensor-core twin (same bindings, push constants and grid), where there is one */
        char alt[80];
        snprintf(alt, sizeof alt, "cm_%s", kernel);
        const vk_kernel *a = vk_kernel_find(alt);
        if (a)
            run = a;
    }
    if (c->n_pipes == c->cap_pipes) {
        int cap = c->cap_pipes ? 2 * c->cap_pipes : 32;
        vk_pipe *p = realloc(c->pipes, (size_t)cap * sizeof *p);
        if (!p)
            return vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory for pipelines");
        c->pipes = p;
        c->cap_pipes = cap;
    }
    VkShaderModuleCreateInfo mi = {VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, NULL, 0, (size_t)run->n_words * 4,
                                   run->words};
    VkShaderModule mod;
    VkResult r = c->f.vkCreateShaderModule(c->dev, &mi, NULL, &mod);
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: kernel %s: vkCreateShaderModule failed (%s)", run->name,
                       vk_result_name(r));
    VkComputePipelineCreateInfo pi = {VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO, NULL, 0,
                                      {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0,
                                       VK_SHADER_STAGE_COMPUTE_BIT, mod, "main", NULL},
                                      c->layout[n_args], VK_NULL_HANDLE, -1};
    VkPipeline pipe;
    r = c->f.vkCreateComputePipelines(c->dev, c->cache, 1, &pi, NULL, &pipe);
    c->f.vkDestroyShaderModule(c->dev, mod, NULL);
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: kernel %s: vkCreateComputePipelines failed (%s)", run->name,
                       vk_result_name(r));
    c->pipes[c->n_pipes].req = k->name;
    c->pipes[c->n_pipes].name = run->name;
    c->pipes[c->n_pipes].pipe = pipe;
    c->pipes[c->n_pipes].n_args = n_args;
    c->pipes[c->n_pipes].runs = 0;
    c->pipes[c->n_pipes].seconds = 0;
    *entry = &c->pipes[c->n_pipes];
    c->n_pipes++;
    *out = pipe;
    return GB_OK;
}
