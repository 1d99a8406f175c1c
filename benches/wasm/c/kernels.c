/* C benchmark kernels for wasm guests: no libc, static buffers only.
 *
 * Built by ../build.sh with
 *   clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry -Wl,--export-all
 * Every kernel is `unsigned long long c_<name>(unsigned n)` returning a checksum. */

typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned char u8;

#define BUF_BYTES (1u << 20)
static u8 buf[BUF_BYTES];

/* CRC-32 (IEEE, bitwise, table built on each call) over `n` bytes of pseudo-random data,
 * repeated over the 1 MiB buffer as needed. */
u64 c_crc32(u32 n) {
    static u32 table[256];
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    u32 x = 2463534242u;
    for (u32 i = 0; i < BUF_BYTES; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (u8)x;
    }
    u32 crc = 0xFFFFFFFFu;
    for (u32 i = 0; i < n; i++) crc = table[(crc ^ buf[i & (BUF_BYTES - 1)]) & 0xFF] ^ (crc >> 8);
    return (u64)(crc ^ 0xFFFFFFFFu);
}

/* Mandelbrot set on an `n`×`n` grid, at most 64 iterations a point (double arithmetic,
 * data-dependent branches). Returns the total iteration count. */
u64 c_mandelbrot(u32 n) {
    u64 total = 0;
    for (u32 py = 0; py < n; py++) {
        double ci = -1.5 + 3.0 * (double)py / (double)n;
        for (u32 px = 0; px < n; px++) {
            double cr = -2.0 + 3.0 * (double)px / (double)n;
            double zr = 0.0, zi = 0.0;
            u32 it = 0;
            while (it < 64 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
        }
    }
    return total;
}
