// stand-in/simd/simd.h - empty: SPIRV-Cross includes it; the stand-in
// metal_stdlib declares what the generated kernels use.
#pragma once
