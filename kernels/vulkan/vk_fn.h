/* vk_fn.h - the Vulkan entry points this backend uses, as function pointers
 * filled at run time (vk_loader.c). The loader library is opened with dlopen,
 * so a machine without Vulkan still runs every other backend: nothing here
 * links against libvulkan.
 *
 * One X-macro list per level (global, instance, device) keeps the table and
 * its loading code in one place. */
#ifndef GQ_VK_FN_H
#define GQ_VK_FN_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#define GQ_VK_GLOBAL_FNS(X)                                                                                           \
    X(vkCreateInstance)                                                                                               \
    X(vkEnumerateInstanceVersion)                                                                                     \
    X(vkEnumerateInstanceExtensionProperties)

#define GQ_VK_INSTANCE_FNS(X)                                                                                         \
    X(vkDestroyInstance)                                                                                              \
    X(vkEnumeratePhysicalDevices)                                                                                     \
    X(vkGetPhysicalDeviceProperties)                                                                                  \
    X(vkGetPhysicalDeviceProperties2)                                                                                 \
    X(vkGetPhysicalDeviceMemoryProperties)                                                                            \
    X(vkGetPhysicalDeviceQueueFamilyProperties)                                                                       \
    X(vkGetPhysicalDeviceFeatures2)                                                                                   \
    X(vkCreateDevice)                                                                                                 \
    X(vkGetDeviceProcAddr)                                                                                            \
    X(vkEnumerateDeviceExtensionProperties)

#define GQ_VK_DEVICE_FNS(X)                                                                                           \
    X(vkDestroyDevice)                                                                                                \
    X(vkGetDeviceQueue)                                                                                               \
    X(vkDeviceWaitIdle)                                                                                               \
    X(vkQueueSubmit)                                                                                                  \
    X(vkCreateBuffer)                                                                                                 \
    X(vkDestroyBuffer)                                                                                                \
    X(vkGetBufferMemoryRequirements)                                                                                  \
    X(vkAllocateMemory)                                                                                               \
    X(vkFreeMemory)                                                                                                   \
    X(vkBindBufferMemory)                                                                                             \
    X(vkMapMemory)                                                                                                    \
    X(vkUnmapMemory)                                                                                                  \
    X(vkCreateShaderModule)                                                                                           \
    X(vkDestroyShaderModule)                                                                                          \
    X(vkCreatePipelineCache)                                                                                          \
    X(vkDestroyPipelineCache)                                                                                         \
    X(vkGetPipelineCacheData)                                                                                         \
    X(vkCreateDescriptorSetLayout)                                                                                    \
    X(vkDestroyDescriptorSetLayout)                                                                                   \
    X(vkCreatePipelineLayout)                                                                                         \
    X(vkDestroyPipelineLayout)                                                                                        \
    X(vkCreateComputePipelines)                                                                                       \
    X(vkDestroyPipeline)                                                                                              \
    X(vkCreateDescriptorPool)                                                                                         \
    X(vkDestroyDescriptorPool)                                                                                        \
    X(vkResetDescriptorPool)                                                                                          \
    X(vkAllocateDescriptorSets)                                                                                       \
    X(vkUpdateDescriptorSets)                                                                                         \
    X(vkCreateCommandPool)                                                                                            \
    X(vkDestroyCommandPool)                                                                                           \
    X(vkAllocateCommandBuffers)                                                                                       \
    X(vkResetCommandBuffer)                                                                                           \
    X(vkBeginCommandBuffer)                                                                                           \
    X(vkEndCommandBuffer)                                                                                             \
    X(vkCmdBindPipeline)                                                                                              \
    X(vkCmdBindDescriptorSets)                                                                                        \
    X(vkCmdPushConstants)                                                                                             \
    X(vkCmdDispatch)                                                                                                  \
    X(vkCmdPipelineBarrier)                                                                                           \
    X(vkCmdCopyBuffer)                                                                                                \
    X(vkCmdFillBuffer)                                                                                                \
    X(vkCreateFence)                                                                                                  \
    X(vkDestroyFence)                                                                                                 \
    X(vkWaitForFences)                                                                                                \
    X(vkGetFenceStatus)                                                                                               \
    X(vkResetFences)                                                                                                  \
    X(vkCreateQueryPool)                                                                                              \
    X(vkDestroyQueryPool)                                                                                             \
    X(vkCmdResetQueryPool)                                                                                            \
    X(vkCmdWriteTimestamp)                                                                                            \
    X(vkGetQueryPoolResults)

typedef struct {
    void *lib; /* the dlopen handle */
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
#define GQ_VK_DECL(name) PFN_##name name;
    GQ_VK_GLOBAL_FNS(GQ_VK_DECL)
    GQ_VK_INSTANCE_FNS(GQ_VK_DECL)
    GQ_VK_DEVICE_FNS(GQ_VK_DECL)
#undef GQ_VK_DECL
} vk_fns;

/* Open the loader library and fetch the global entry points. 0 on success;
 * else -1 with why naming the library that is missing and how to get it. */
int vk_fns_open(vk_fns *f, char *why, size_t whylen);
/* Instance-level entry points (after vkCreateInstance); 0 or -1 (why). */
int vk_fns_instance(vk_fns *f, VkInstance inst, char *why, size_t whylen);
/* Device-level entry points (after vkCreateDevice); 0 or -1 (why). */
int vk_fns_device(vk_fns *f, VkDevice dev, char *why, size_t whylen);
void vk_fns_close(vk_fns *f);

#endif
