/* ref_llama2c_loop: a straightforward single-file F32 transformer loop in the style of
 * llama2.c's run.c (Karpathy, 2023), written for mecllm as the reference that `mecllm bench
 * model` compares its F32 path against. Plain loops, one matmul per projection with an OpenMP
 * "parallel for" over rows (when built with -fopenmp), no SIMD intrinsics, no batching.
 *
 *   ref_llama2c_loop CHECKPOINT.bin [n_tokens=128]
 *
 * Reads the llama2.c checkpoint (7 x int32 header, then float32 arrays; negative vocab_size =
 * untied classifier), generates n_tokens greedily from BOS and prints one line:
 *   ref_llama2c_loop tokens=N seconds=S tok_per_s=R checksum=C
 * Build: cc -O3 -march=native [-fopenmp] ref_llama2c_loop.c -o ref_llama2c_loop -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
} Config;

typedef struct {
  float* token_embedding; /* (vocab, dim) */
  float* rms_att;         /* (layer, dim) */
  float* wq;              /* (layer, dim, dim) */
  float* wk;              /* (layer, kv_dim, dim) */
  float* wv;              /* (layer, kv_dim, dim) */
  float* wo;              /* (layer, dim, dim) */
  float* rms_ffn;         /* (layer, dim) */
  float* w1;              /* (layer, hidden, dim) */
  float* w2;              /* (layer, dim, hidden) */
  float* w3;              /* (layer, hidden, dim) */
  float* rms_final;       /* (dim) */
  float* wcls;            /* (vocab, dim) */
} Weights;

typedef struct {
  float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits; /* activations */
  float *key_cache, *value_cache;                    /* (layer, seq_len, kv_dim) */
} State;

static void die(const char* msg, const char* arg) {
  fprintf(stderr, "ref_llama2c_loop: %s%s\n", msg, arg ? arg : "");
  exit(1);
}

static void* xcalloc(size_t n, size_t size) {
  void* p = calloc(n, size);
  if (!p) die("out of memory", NULL);
  return p;
}

static void rmsnorm(float* o, const float* x, const float* w, int n) {
  float ss = 0.0f;
  for (int i = 0; i < n; i++) ss += x[i] * x[i];
  ss = 1.0f / sqrtf(ss / n + 1e-5f);
  for (int i = 0; i < n; i++) o[i] = w[i] * (ss * x[i]);
}

static void softmax(float* x, int n) {
  float mx = x[0], sum = 0.0f;
  for (int i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
  for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
  for (int i = 0; i < n; i++) x[i] /= sum;
}

/* xout (d) = W (d, n) @ x (n) */
static void matmul(float* xout, const float* x, const float* w, int n, int d) {
  int i;
#pragma omp parallel for private(i)
  for (i = 0; i < d; i++) {
    float val = 0.0f;
    for (int j = 0; j < n; j++) val += w[(size_t)i * n + j] * x[j];
    xout[i] = val;
  }
}

static float* forward(const Config* p, const Weights* w, State* s, int token, int pos) {
  const int dim = p->dim, hs = dim / p->n_heads, kv_dim = hs * p->n_kv_heads;
  const int group = p->n_heads / p->n_kv_heads, hidden = p->hidden_dim;
  memcpy(s->x, w->token_embedding + (size_t)token * dim, dim * sizeof(float));
  for (int l = 0; l < p->n_layers; l++) {
    rmsnorm(s->xb, s->x, w->rms_att + (size_t)l * dim, dim);
    float* k = s->key_cache + ((size_t)l * p->seq_len + pos) * kv_dim;
    float* v = s->value_cache + ((size_t)l * p->seq_len + pos) * kv_dim;
    matmul(s->q, s->xb, w->wq + (size_t)l * dim * dim, dim, dim);
    matmul(k, s->xb, w->wk + (size_t)l * kv_dim * dim, dim, kv_dim);
    matmul(v, s->xb, w->wv + (size_t)l * kv_dim * dim, dim, kv_dim);
    for (int i = 0; i < dim; i += 2) { /* RoPE, interleaved pairs */
      const float freq = 1.0f / powf(10000.0f, (float)(i % hs) / (float)hs);
      const float fc = cosf(pos * freq), fs = sinf(pos * freq);
      for (int which = 0; which < (i < kv_dim ? 2 : 1); which++) {
        float* vec = which == 0 ? s->q : k;
        const float a = vec[i], b = vec[i + 1];
        vec[i] = a * fc - b * fs;
        vec[i + 1] = a * fs + b * fc;
      }
    }
    for (int h = 0; h < p->n_heads; h++) {
      const float* q = s->q + h * hs;
      float* att = s->att + (size_t)h * p->seq_len;
      for (int t = 0; t <= pos; t++) {
        const float* kt = s->key_cache + ((size_t)l * p->seq_len + t) * kv_dim + (h / group) * hs;
        float score = 0.0f;
        for (int i = 0; i < hs; i++) score += q[i] * kt[i];
        att[t] = score / sqrtf((float)hs);
      }
      softmax(att, pos + 1);
      float* xb = s->xb + h * hs;
      memset(xb, 0, hs * sizeof(float));
      for (int t = 0; t <= pos; t++) {
        const float* vt = s->value_cache + ((size_t)l * p->seq_len + t) * kv_dim + (h / group) * hs;
        for (int i = 0; i < hs; i++) xb[i] += att[t] * vt[i];
      }
    }
    matmul(s->xb2, s->xb, w->wo + (size_t)l * dim * dim, dim, dim);
    for (int i = 0; i < dim; i++) s->x[i] += s->xb2[i];
    rmsnorm(s->xb, s->x, w->rms_ffn + (size_t)l * dim, dim);
    matmul(s->hb, s->xb, w->w1 + (size_t)l * dim * hidden, dim, hidden);
    matmul(s->hb2, s->xb, w->w3 + (size_t)l * dim * hidden, dim, hidden);
    for (int i = 0; i < hidden; i++) {
      const float g = s->hb[i];
      s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
    }
    matmul(s->xb, s->hb, w->w2 + (size_t)l * dim * hidden, hidden, dim);
    for (int i = 0; i < dim; i++) s->x[i] += s->xb[i];
  }
  rmsnorm(s->x, s->x, w->rms_final, dim);
  matmul(s->logits, s->x, w->wcls, dim, p->vocab_size);
  return s->logits;
}

int main(int argc, char** argv) {
  if (argc < 2) die("usage: ref_llama2c_loop CHECKPOINT.bin [n_tokens]", NULL);
  const int n_tokens = argc > 2 ? atoi(argv[2]) : 128;
  FILE* f = fopen(argv[1], "rb");
  if (!f) die("cannot open ", argv[1]);
  Config p;
  if (fread(&p, sizeof(int), 7, f) != 7) die("truncated header in ", argv[1]);
  const int shared = p.vocab_size > 0;
  p.vocab_size = abs(p.vocab_size);
  if (p.dim <= 0 || p.n_heads <= 0 || p.n_kv_heads <= 0 || p.n_layers <= 0 || p.hidden_dim <= 0 ||
      p.seq_len <= 0 || p.dim % p.n_heads || p.n_heads % p.n_kv_heads)
    die("implausible header in ", argv[1]);
  if (n_tokens < 1 || n_tokens > p.seq_len) die("n_tokens must be 1..seq_len", NULL);
  const size_t dim = p.dim, hs = dim / p.n_heads, kv_dim = hs * p.n_kv_heads, L = p.n_layers;
  const size_t hidden = p.hidden_dim, vocab = p.vocab_size;
  const size_t n_floats = vocab * dim + L * dim * 2 + L * dim * dim * 2 + L * kv_dim * dim * 2 +
                          L * hidden * dim * 3 + dim + (size_t)p.seq_len * hs + (shared ? 0 : vocab * dim);
  float* data = xcalloc(n_floats, sizeof(float));
  if (fread(data, sizeof(float), n_floats, f) != n_floats) die("truncated weights in ", argv[1]);
  fclose(f);
  Weights w;
  float* ptr = data;
  w.token_embedding = ptr; ptr += vocab * dim;
  w.rms_att = ptr; ptr += L * dim;
  w.wq = ptr; ptr += L * dim * dim;
  w.wk = ptr; ptr += L * kv_dim * dim;
  w.wv = ptr; ptr += L * kv_dim * dim;
  w.wo = ptr; ptr += L * dim * dim;
  w.rms_ffn = ptr; ptr += L * dim;
  w.w1 = ptr; ptr += L * hidden * dim;
  w.w2 = ptr; ptr += L * hidden * dim;
  w.w3 = ptr; ptr += L * hidden * dim;
  w.rms_final = ptr; ptr += dim;
  ptr += (size_t)p.seq_len * hs; /* the two legacy RoPE tables */
  w.wcls = shared ? w.token_embedding : ptr;
  State s;
  s.x = xcalloc(dim, 4); s.xb = xcalloc(dim, 4); s.xb2 = xcalloc(dim, 4);
  s.hb = xcalloc(hidden, 4); s.hb2 = xcalloc(hidden, 4); s.q = xcalloc(dim, 4);
  s.att = xcalloc((size_t)p.n_heads * p.seq_len, 4); s.logits = xcalloc(vocab, 4);
  s.key_cache = xcalloc(L * p.seq_len * kv_dim, 4); s.value_cache = xcalloc(L * p.seq_len * kv_dim, 4);

  forward(&p, &w, &s, 1, 0); /* warm-up: page in the weights */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int token = 1;
  double checksum = 0.0;
  for (int pos = 0; pos < n_tokens; pos++) {
    const float* logits = forward(&p, &w, &s, token, pos);
    int best = 0;
    for (size_t i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = (int)i;
    checksum += logits[best];
    token = best;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  printf("ref_llama2c_loop tokens=%d seconds=%.6f tok_per_s=%.3f checksum=%.6f\n", n_tokens, sec, n_tokens / sec, checksum);
  free(data);
  return 0;
}
