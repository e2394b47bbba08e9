/* vk_loader.c - opens the Vulkan loader at run time (see vk_fn.h).
 *
 * GQ_VK_LOADER=<path> names the library to open instead of the system's
 * (tests point it at a missing file to check the "no loader" message). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_fn.h"

#if defined(__APPLE__)
/* the LunarG/Homebrew loader first, then MoltenVK used directly as the ICD */
static const char *const k_names[] = {"libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib", NULL};
#define GQ_VK_HINT "install the Vulkan loader and MoltenVK (brew install vulkan-loader molten-vk)"
#else
static const char *const k_names[] = {"libvulkan.so.1", "libvulkan.so", NULL};
#define GQ_VK_HINT "install libvulkan1 and a driver (Debian: apt-get install libvulkan1 mesa-vulkan-drivers)"
#endif

int vk_fns_open(vk_fns *f, char *why, size_t whylen)
{
    memset(f, 0, sizeof *f);
    const char *env = getenv("GQ_VK_LOADER");
    if (env && *env) {
        f->lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!f->lib) {
            snprintf(why, whylen, "no Vulkan loader (%s, from GQ_VK_LOADER): %s", env, GQ_VK_HINT);
            return -1;
        }
    } else {
        for (int i = 0; k_names[i] && !f->lib; i++)
            f->lib = dlopen(k_names[i], RTLD_NOW | RTLD_LOCAL);
        if (!f->lib) {
            snprintf(why, whylen, "no Vulkan loader (%s): %s", k_names[0], GQ_VK_HINT);
            return -1;
        }
    }
    /* dlsym returns void *; the cast through a union keeps -Wpedantic quiet */
    union {
        void *p;
        PFN_vkGetInstanceProcAddr f;
    } u;
    u.p = dlsym(f->lib, "vkGetInstanceProcAddr");
    f->vkGetInstanceProcAddr = u.f;
    if (!f->vkGetInstanceProcAddr) {
        snprintf(why, whylen, "the Vulkan loader has no vkGetInstanceProcAddr: %s", GQ_VK_HINT);
        vk_fns_close(f);
        return -1;
    }
#define GQ_VK_LOAD(name) f->name = (PFN_##name)f->vkGetInstanceProcAddr(NULL, #name);
    GQ_VK_GLOBAL_FNS(GQ_VK_LOAD)
#undef GQ_VK_LOAD
    if (!f->vkCreateInstance) {
        snprintf(why, whylen, "the Vulkan loader has no vkCreateInstance: %s", GQ_VK_HINT);
        vk_fns_close(f);
        return -1;
    }
    return 0;
}

int vk_fns_instance(vk_fns *f, VkInstance inst, char *why, size_t whylen)
{
#define GQ_VK_LOAD(name)                                                                                              \
    if (!(f->name = (PFN_##name)f->vkGetInstanceProcAddr(inst, #name))) {                                           \
        snprintf(why, whylen, "the Vulkan loader lacks %s (Vulkan 1.1 or later needed)", #name);                     \
        return -1;                                                                                                    \
    }
    GQ_VK_INSTANCE_FNS(GQ_VK_LOAD)
#undef GQ_VK_LOAD
    return 0;
}

int vk_fns_device(vk_fns *f, VkDevice dev, char *why, size_t whylen)
{
#define GQ_VK_LOAD(name)                                                                                              \
    if (!(f->name = (PFN_##name)f->vkGetDeviceProcAddr(dev, #name))) {                                              \
        snprintf(why, whylen, "the Vulkan driver lacks %s", #name);                                                  \
        return -1;                                                                                                    \
    }
    GQ_VK_DEVICE_FNS(GQ_VK_LOAD)
#undef GQ_VK_LOAD
    return 0;
}

void vk_fns_close(vk_fns *f)
{
    if (f->lib)
        dlclose(f->lib);
    memset(f, 0, sizeof *f);
}
