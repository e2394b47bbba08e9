// stand-in Foundation/Foundation.h - NOT Apple's header. Only the few
// declarations kernels/metal/mt_backend.m uses, written from Apple's
// documented signatures, so that clang can parse and type-check the host
// on a machine without the Apple SDK (tests/metal: metal_host_syntax).
// A mismatch with the real SDK shows only when a Mac builds it.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef unsigned long NSUInteger;
typedef long NSInteger;
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO ((BOOL)0)
#define nil ((id)0)
#define NS_RETURNS_RETAINED __attribute__((ns_returns_retained))

@protocol NSObject
@end

__attribute__((objc_root_class))
@interface NSObject <NSObject>
+ (instancetype)alloc;
- (instancetype)init;
@end

@interface NSString : NSObject
+ (instancetype)stringWithUTF8String:(const char *)s;
- (const char *)UTF8String;
@end

@interface NSError : NSObject
- (NSString *)localizedDescription;
@end

@interface NSArray<ObjectType> : NSObject
- (NSUInteger)count;
- (ObjectType)objectAtIndex:(NSUInteger)index;
@end
