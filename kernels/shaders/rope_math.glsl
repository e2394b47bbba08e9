// rope_math.glsl - the rotation's sin/cos, shared by rope.comp and
// rope_kv.comp so both give the same bits: an exact three-part reduction by
// pi/2, then the minimax polynomials of cephes' sinf/cosf on [-pi/4, pi/4].
// a - k * pi/2 for integer k < 2^17 (angles up to 131072 rad): pi/2 as
// P1 + P2 + P3 with P1 (15 bits) and P2 (12 bits) short enough, and k split
// into k1 (a multiple of 512, 8 bits) and k2 (< 512, 9 bits), that every
// product is exact and the first subtractions too, with no fma (with an fma
// reduction lavapipe was off by 2.6e-3 at pos 131000: GLSL does not promise
// a single rounding for fma).
float reduce_half_pi(float a, float k)
{
    precise float k1 = floor(k * (1.0 / 512.0)) * 512.0;
    precise float k2 = k - k1;
    precise float r = a - k1 * 1.57073974609375;    // 25735 / 2^14
    r = r - k2 * 1.57073974609375;
    r = r - k1 * 5.657970905303955e-05;              // 3797 / 2^29
    r = r - k2 * 5.657970905303955e-05;
    r = r - k * 9.92093629470503e-10;                // the rest of pi/2, rounded to fp32
    return r;
}

void sincos_f(float a, out float s, out float c)
{
    float k = roundEven(a * 0.63661977236758134308);  // a / (pi/2)
    precise float r = reduce_half_pi(a, k);
    precise float z = r * r;
    precise float sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
    precise float cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
    int q = int(k) & 3;
    s = q == 0 ? sp : q == 1 ? cp : q == 2 ? -sp : -cp;
    c = q == 0 ? cp : q == 1 ? -sp : q == 2 ? -cp : sp;
}
