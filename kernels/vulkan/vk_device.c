/* vk_device.c - instance, device choice, queue and limits.
 *
 * Choice: a discrete GPU first, then integrated, virtual, other, and a CPU
 * device (lavapipe) last; among equals the enumeration order. A selector
 * (gb_config.device, else env GQ_VK_DEVICE) that is all digits is an index
 * into the enumeration, anything else a case-insensitive substring of the
 * device name. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vk_internal.h"

const char *vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "a Vulkan error";
    }
}

gb_status vk_status_of(VkResult r)
{
    return r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY ? GB_ERR_NOMEM : GB_ERR_DEVICE;
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 4;
    default: return 3;
    }
}

static int has_compute_queue(vk_fns *f, VkPhysicalDevice p, uint32_t *fam)
{
    uint32_t n = 0;
    f->vkGetPhysicalDeviceQueueFamilyProperties(p, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32)
        n = 32;
    f->vkGetPhysicalDeviceQueueFamilyProperties(p, &n, q);
    /* a compute-only family first (no graphics work shares it), else any compute one */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++)
            if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && (pass || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))) {
                *fam = i;
                return 1;
            }
    return 0;
}

static const char *selector(const char *sel)
{
    if (sel && *sel)
        return sel;
    const char *env = getenv("GQ_VK_DEVICE");
    return env && *env ? env : NULL;
}

static int all_digits(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int name_has(const char *name, const char *sub)
{
    size_t n = strlen(sub);
    for (; *name; name++)
        if (strncasecmp(name, sub, n) == 0)
            return 1;
    return 0;
}

/* Instance + the chosen physical device; 0 or -1 (why). */
static int open_instance(vk_ctx *c, const char *sel, char *why, size_t whylen)
{
    if (vk_fns_open(&c->f, why, whylen))
        return -1;
    uint32_t api = VK_API_VERSION_1_1;
    if (c->f.vkEnumerateInstanceVersion) {
        uint32_t have = 0;
        if (c->f.vkEnumerateInstanceVersion(&have) == VK_SUCCESS && have >= VK_API_VERSION_1_2)
            api = VK_API_VERSION_1_2;
    }
    VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "gptoss", 1, "gptoss", 1, api};
    VkInstanceCreateInfo ci = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, NULL, 0, &app, 0, NULL, 0, NULL};
    /* MoltenVK and other portability drivers are listed only when asked for */
    const char *portability = "VK_KHR_portability_enumeration";
    uint32_t n_ext = 0;
    VkExtensionProperties ext[256];
    if (c->f.vkEnumerateInstanceExtensionProperties) {
        n_ext = 256;
        if (c->f.vkEnumerateInstanceExtensionProperties(NULL, &n_ext, ext) < 0)
            n_ext = 0;
    }
    for (uint32_t i = 0; i < n_ext; i++)
        if (!strcmp(ext[i].extensionName, portability)) {
            ci.enabledExtensionCount = 1;
            ci.ppEnabledExtensionNames = &portability;
            ci.flags |= 0x00000001; /* VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR */
        }
    VkResult r = c->f.vkCreateInstance(&ci, NULL, &c->inst);
    if (r != VK_SUCCESS) {
        snprintf(why, whylen, "no Vulkan device: vkCreateInstance failed (%s): install a Vulkan driver "
                 "(Debian: mesa-vulkan-drivers, or your GPU vendor's)", vk_result_name(r));
        c->inst = VK_NULL_HANDLE;
        return -1;
    }
    if (vk_fns_instance(&c->f, c->inst, why, whylen))
        return -1;
    uint32_t n = 0;
    c->f.vkEnumeratePhysicalDevices(c->inst, &n, NULL);
    VkPhysicalDevice devs[16];
    if (n > 16)
        n = 16;
    if (n == 0 || c->f.vkEnumeratePhysicalDevices(c->inst, &n, devs) < 0 || n == 0) {
        snprintf(why, whylen, "no Vulkan device: the loader found no driver (install mesa-vulkan-drivers for "
                 "lavapipe, or your GPU vendor's driver)");
        return -1;
    }
    sel = selector(sel);
    int best = -1, best_rank = 99;
    char names[512] = "";
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        uint32_t fam;
        c->f.vkGetPhysicalDeviceProperties(devs[i], &p);
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%u: %s", i ? ", " : "", i, p.deviceName);
        if (p.apiVersion < VK_API_VERSION_1_1 || !has_compute_queue(&c->f, devs[i], &fam))
            continue;
        if (sel) {
            if (all_digits(sel) ? (uint32_t)atoi(sel) == i : name_has(p.deviceName, sel)) {
                best = (int)i;
                break;
            }
            continue;
        }
        if (type_rank(p.deviceType) < best_rank) {
            best_rank = type_rank(p.deviceType);
            best = (int)i;
        }
    }
    if (best < 0) {
        if (sel)
            snprintf(why, whylen, "no Vulkan device matches '%s' (GQ_VK_DEVICE / --device: an index or a name "
                     "substring; devices: %s)", sel, names);
        else
            snprintf(why, whylen, "no Vulkan device with Vulkan 1.1 and a compute queue (devices: %s)", names);
        return -1;
    }
    c->phys = devs[best];
    c->f.vkGetPhysicalDeviceProperties(c->phys, &c->props);
    has_compute_queue(&c->f, c->phys, &c->qfam);
    return 0;
}

int vk_device_probe(const char *sel, int *software, char *why, size_t whylen)
{
    vk_ctx c;
    memset(&c, 0, sizeof c);
    int ok = open_instance(&c, sel, why, whylen) == 0;
    if (ok && software)
        *software = c.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    vk_device_close(&c);
    return ok;
}

static int has_device_ext(vk_ctx *c, const char *name)
{
    uint32_t n = 0;
    c->f.vkEnumerateDeviceExtensionProperties(c->phys, NULL, &n, NULL);
    VkExtensionProperties *e = calloc(n ? n : 1, sizeof *e);
    int found = 0;
    if (e && c->f.vkEnumerateDeviceExtensionProperties(c->phys, NULL, &n, e) >= 0)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

/* The tensor-core kernels (cm_*.comp, gemm_cm_tile.glsl) need
 * VK_NV_cooperative_matrix with a 16 x 16 x 16 subgroup-scope shape of half
 * A and B and fp32 C and D, half arithmetic, the Vulkan memory model (the
 * GLSL extension's scopes imply it) and subgroups of 32 (the tile's layout:
 * 8 subgroups of a 256-thread workgroup). GQ_VK_COOPMAT=0 keeps the fp32
 * tiles on such a device (for comparing the two). Debian's glslc compiles
 * the NV extension, not VK_KHR_cooperative_matrix, hence NV. */
static int coopmat_usable(vk_ctx *c, const VkPhysicalDeviceVulkan12Features *f12)
{
    const char *env = getenv("GQ_VK_COOPMAT");
    if ((env && !strcmp(env, "0")) || c->subgroup != 32 || !f12->shaderFloat16 || !f12->vulkanMemoryModel ||
        !has_device_ext(c, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME))
        return 0;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cf = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
                                                      NULL, VK_FALSE, VK_FALSE};
    VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &cf, {0}};
    c->f.vkGetPhysicalDeviceFeatures2(c->phys, &f2);
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV props = (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)
        c->f.vkGetInstanceProcAddr(c->inst, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
    if (!cf.cooperativeMatrix || !props)
        return 0;
    uint32_t n = 0;
    if (props(c->phys, &n, NULL) < 0 || n == 0)
        return 0;
    VkCooperativeMatrixPropertiesNV *m = calloc(n, sizeof *m);
    int ok = 0;
    if (!m)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        m[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (props(c->phys, &n, m) >= 0)
        for (uint32_t i = 0; i < n && !ok; i++)
            ok = m[i].MSize == 16 && m[i].NSize == 16 && m[i].KSize == 16 &&
                 m[i].AType == VK_COMPONENT_TYPE_FLOAT16_NV && m[i].BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                 m[i].CType == VK_COMPONENT_TYPE_FLOAT32_NV && m[i].DType == VK_COMPONENT_TYPE_FLOAT32_NV &&
                 m[i].scope == VK_SCOPE_SUBGROUP_NV;
    free(m);
    return ok;
}

int vk_device_open(vk_ctx *c, const char *sel, char *why, size_t whylen)
{
    if (open_instance(c, sel, why, whylen))
        return -1;
    /* limits */
    VkPhysicalDeviceSubgroupProperties sg = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, NULL, 0, 0, 0, 0};
    VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &sg, {0}};
    c->f.vkGetPhysicalDeviceProperties2(c->phys, &p2);
    c->subgroup = sg.subgroupSize ? sg.subgroupSize : 1;
    c->align = c->props.limits.minStorageBufferOffsetAlignment;
    if (c->align < 16)
        c->align = 16;
    c->max_range = (uint64_t)c->props.limits.maxStorageBufferRange & ~(c->align - 1);
    c->max_alloc = 1ull << 30; /* Vulkan 1.1 guarantees this much per allocation (maxMemoryAllocationSize) */
    {
        VkPhysicalDeviceMaintenance3Properties m3 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, NULL,
                                                     0, 0};
        VkPhysicalDeviceProperties2 q = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &m3, {0}};
        c->f.vkGetPhysicalDeviceProperties2(c->phys, &q);
        if (m3.maxMemoryAllocationSize > c->max_alloc)
            c->max_alloc = m3.maxMemoryAllocationSize;
    }
    c->f.vkGetPhysicalDeviceMemoryProperties(c->phys, &c->memprops);
    c->mt_device = c->mt_stage = -1;
    /* types are listed with fewer properties first: the first device-local
     * type is the plain one, the first host-visible coherent one the staging one */
    for (uint32_t i = 0; i < c->memprops.memoryTypeCount; i++) {
        VkMemoryPropertyFlags fl = c->memprops.memoryTypes[i].propertyFlags;
        if (c->mt_device < 0 && (fl & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
            c->mt_device = (int)i;
        if (c->mt_stage < 0 && (fl & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (fl & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            c->mt_stage = (int)i;
    }
    /* staging is read back by the host (logits, 800 KB a token): a cached
     * host-visible type reads at memory speed where uncached (write-combined)
     * memory reads at a small fraction of it */
    for (uint32_t i = 0; i < c->memprops.memoryTypeCount; i++) {
        VkMemoryPropertyFlags fl = c->memprops.memoryTypes[i].propertyFlags, want =
            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
        if ((fl & want) == want) {
            c->mt_stage = (int)i;
            break;
        }
    }
    if (c->mt_device < 0)
        c->mt_device = c->mt_stage;
    if (c->mt_stage < 0) {
        snprintf(why, whylen, "Vulkan device %s has no host-visible coherent memory", c->props.deviceName);
        return -1;
    }
    c->heap_bytes = c->memprops.memoryHeaps[c->memprops.memoryTypes[c->mt_device].heapIndex].size;

    /* features: the 8/16-bit storage and arithmetic the kernels may use, where present */
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    int v12 = c->props.apiVersion >= VK_API_VERSION_1_2;
    if (v12) {
        f2.pNext = &f11;
        f11.pNext = &f12;
    }
    c->f.vkGetPhysicalDeviceFeatures2(c->phys, &f2);
    VkPhysicalDeviceFeatures2 en = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDeviceVulkan11Features e11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features e12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    en.features.shaderInt16 = f2.features.shaderInt16;
    en.features.shaderInt64 = f2.features.shaderInt64;
    if (v12) {
        en.pNext = &e11;
        e11.pNext = &e12;
        e11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
        e11.uniformAndStorageBuffer16BitAccess = f11.uniformAndStorageBuffer16BitAccess;
        e12.storageBuffer8BitAccess = f12.storageBuffer8BitAccess;
        e12.uniformAndStorageBuffer8BitAccess = f12.uniformAndStorageBuffer8BitAccess;
        e12.shaderInt8 = f12.shaderInt8;
        e12.shaderFloat16 = f12.shaderFloat16;
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, NULL, 0, c->qfam, 1, &prio};
    const char *exts[2];
    uint32_t n_exts = 0;
    if (has_device_ext(c, "VK_KHR_portability_subset"))
        exts[n_exts++] = "VK_KHR_portability_subset";
    VkPhysicalDeviceCooperativeMatrixFeaturesNV ecm = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
                                                       NULL, VK_TRUE, VK_FALSE};
    c->coopmat = v12 && coopmat_usable(c, &f12);
    if (c->coopmat) {
        exts[n_exts++] = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
        e12.vulkanMemoryModel = VK_TRUE;
        ecm.pNext = en.pNext;
        en.pNext = &ecm;
    }
    VkDeviceCreateInfo di = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &en, 0, 1, &qi, 0, NULL, n_exts, exts, NULL};
    VkResult r = c->f.vkCreateDevice(c->phys, &di, NULL, &c->dev);
    if (r != VK_SUCCESS) {
        snprintf(why, whylen, "Vulkan device %s: vkCreateDevice failed (%s)", c->props.deviceName, vk_result_name(r));
        c->dev = VK_NULL_HANDLE;
        return -1;
    }
    if (vk_fns_device(&c->f, c->dev, why, whylen))
        return -1;
    c->f.vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);
    return 0;
}

void vk_device_close(vk_ctx *c)
{
    if (c->dev && c->f.vkDestroyDevice)
        c->f.vkDestroyDevice(c->dev, NULL);
    if (c->inst && c->f.vkDestroyInstance)
        c->f.vkDestroyInstance(c->inst, NULL);
    c->dev = VK_NULL_HANDLE;
    c->inst = VK_NULL_HANDLE;
    vk_fns_close(&c->f);
}
