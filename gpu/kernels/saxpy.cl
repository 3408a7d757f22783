// Benchmark kernels. saxpy is memory bound (GB/s); fma_chain is compute bound (GFLOP/s).

__kernel void saxpy(const float a, __global const float* x, __global const float* y,
                    __global float* out, const int n) {
  int i = get_global_id(0);
  if (i < n) out[i] = a * x[i] + y[i];
}

// Each element runs `rounds` dependent pairs of FMAs on two accumulators; the values stay near 1
// so the host can check them.
__kernel void fma_chain(__global float* data, const int rounds, const int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  float v = data[i];
  float w = 1.0f - v;
  for (int r = 0; r < rounds; ++r) {
    v = fma(v, 0.999f, 0.001f);
    w = fma(w, 0.999f, 0.001f);
  }
  data[i] = v + w;
}
