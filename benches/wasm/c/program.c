/* A small C program for measuring Module::new: a tokenizer, a recursive-descent parser and a
 * bytecode compiler and VM for a tiny expression language, plus string and number routines
 * (formatting, parsing, base64, UTF-8, hashing, sorting). Freestanding: no libc, built by
 * benches/wasm/build.sh with clang --target=wasm32 -nostdlib -O2 -Wl,--export-all.
 * Entry point for a run: `p_run(n) -> u64` evaluates a generated program n times. */
typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned long usize;

/* ---- memory and strings ------------------------------------------------------------ */

void *memcpy(void *d, const void *s, usize n) { u8 *a = d; const u8 *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, usize n) {
    u8 *a = d; const u8 *b = s;
    if (a < b) { while (n--) *a++ = *b++; } else { a += n; b += n; while (n--) *--a = *--b; }
    return d;
}
void *memset(void *d, int c, usize n) { u8 *a = d; while (n--) *a++ = (u8)c; return d; }
int memcmp(const void *x, const void *y, usize n) {
    const u8 *a = x, *b = y;
    for (; n; n--, a++, b++) if (*a != *b) return *a - *b;
    return 0;
}
usize p_strlen(const char *s) { const char *p = s; while (*p) p++; return (usize)(p - s); }
int p_strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (u8)*a - (u8)*b; }
int p_strncmp(const char *a, const char *b, usize n) {
    for (; n; n--, a++, b++) { if (*a != *b) return (u8)*a - (u8)*b; if (!*a) return 0; }
    return 0;
}
char *p_strcpy(char *d, const char *s) { char *r = d; while ((*d++ = *s++)) {} return r; }
char *p_strcat(char *d, const char *s) { p_strcpy(d + p_strlen(d), s); return d; }
const char *p_strchr(const char *s, int c) { for (; *s; s++) if (*s == c) return s; return c ? 0 : s; }
const char *p_strstr(const char *h, const char *n) {
    usize ln = p_strlen(n);
    if (!ln) return h;
    for (; *h; h++) if (*h == *n && !p_strncmp(h, n, ln)) return h;
    return 0;
}
void p_reverse(char *s, usize n) { for (usize i = 0; i < n / 2; i++) { char t = s[i]; s[i] = s[n - 1 - i]; s[n - 1 - i] = t; } }
int p_isspace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
int p_isdigit(int c) { return c >= '0' && c <= '9'; }
int p_isalpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
int p_toupper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
int p_tolower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
void p_upcase(char *s) { for (; *s; s++) *s = (char)p_toupper(*s); }

/* ---- a bump allocator over a static arena ---------------------------------------- */

static u8 arena[1 << 20];
static usize arena_top;
void *p_alloc(usize n) {
    n = (n + 7) & ~(usize)7;
    if (arena_top + n > sizeof arena) return 0;
    void *p = arena + arena_top;
    arena_top += n;
    return p;
}
void p_reset(void) { arena_top = 0; }

/* ---- number formatting and parsing ------------------------------------------------- */

usize p_utoa(u64 v, char *out, u32 base) {
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    usize n = 0;
    do { out[n++] = digits[v % base]; v /= base; } while (v);
    p_reverse(out, n);
    out[n] = 0;
    return n;
}
usize p_itoa(i64 v, char *out) {
    if (v < 0) { out[0] = '-'; return 1 + p_utoa((u64)(-(v + 1)) + 1, out + 1, 10); }
    return p_utoa((u64)v, out, 10);
}
i64 p_atoi(const char *s, const char **end) {
    i64 v = 0; int neg = 0;
    while (p_isspace(*s)) s++;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        for (;; s++) {
            int d = p_isdigit(*s) ? *s - '0' : (p_tolower(*s) >= 'a' && p_tolower(*s) <= 'f') ? p_tolower(*s) - 'a' + 10 : -1;
            if (d < 0) break;
            v = v * 16 + d;
        }
    } else {
        while (p_isdigit(*s)) v = v * 10 + (*s++ - '0');
    }
    if (end) *end = s;
    return neg ? -v : v;
}
static const double pow10_table[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
double p_atof(const char *s, const char **end) {
    double v = 0, frac = 0; int neg = 0, exp = 0, fd = 0;
    while (p_isspace(*s)) s++;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    while (p_isdigit(*s)) v = v * 10 + (*s++ - '0');
    if (*s == '.') { s++; while (p_isdigit(*s)) { frac = frac * 10 + (*s++ - '0'); fd++; } }
    if (fd) v += frac / pow10_table[fd > 22 ? 22 : fd];
    if (*s == 'e' || *s == 'E') { const char *e; exp = (int)p_atoi(s + 1, &e); s = e; }
    while (exp > 0) { v *= exp > 22 ? 1e22 : pow10_table[exp]; exp -= exp > 22 ? 22 : exp; }
    while (exp < 0) { v /= -exp > 22 ? 1e22 : pow10_table[-exp]; exp += -exp > 22 ? 22 : -exp; }
    if (end) *end = s;
    return neg ? -v : v;
}
usize p_ftoa(double v, char *out, int prec) {
    usize n = 0;
    if (v != v) { p_strcpy(out, "nan"); return 3; }
    if (v < 0) { out[n++] = '-'; v = -v; }
    if (v > 1e18) { p_strcpy(out + n, "inf"); return n + 3; }
    double scale = pow10_table[prec > 18 ? 18 : prec];
    u64 whole = (u64)v, fracp = (u64)((v - (double)whole) * scale + 0.5);
    if (fracp >= (u64)scale) { whole++; fracp -= (u64)scale; }
    n += p_utoa(whole, out + n, 10);
    if (prec > 0) {
        out[n++] = '.';
        char tmp[24]; usize k = p_utoa(fracp, tmp, 10);
        for (usize z = k; z < (usize)prec; z++) out[n++] = '0';
        memcpy(out + n, tmp, k); n += k;
    }
    out[n] = 0;
    return n;
}

/* ---- a tiny formatter: %d %u %x %s %c %f %% ---------------------------------------- */

typedef struct { char *buf; usize len, cap; } sbuf;
static void sb_putc(sbuf *b, char c) { if (b->len + 1 < b->cap) b->buf[b->len++] = c; b->buf[b->len] = 0; }
static void sb_puts(sbuf *b, const char *s) { while (*s) sb_putc(b, *s++); }
typedef union { i64 i; double f; const char *s; } arg;
usize p_format(char *out, usize cap, const char *fmt, const arg *args) {
    sbuf b = {out, 0, cap};
    char tmp[40];
    out[0] = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') { sb_putc(&b, *fmt); continue; }
        int width = 0, pad = ' ';
        fmt++;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (p_isdigit(*fmt)) width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': p_itoa(args->i, tmp); args++; break;
        case 'u': p_utoa((u64)args->i, tmp, 10); args++; break;
        case 'x': p_utoa((u64)args->i, tmp, 16); args++; break;
        case 'f': p_ftoa(args->f, tmp, 3); args++; break;
        case 'c': tmp[0] = (char)args->i; tmp[1] = 0; args++; break;
        case 's': { usize l = p_strlen(args->s); for (usize k = l; k < (usize)width; k++) sb_putc(&b, ' '); sb_puts(&b, args->s); args++; continue; }
        case '%': tmp[0] = '%'; tmp[1] = 0; break;
        default: tmp[0] = '?'; tmp[1] = 0; break;
        }
        for (usize k = p_strlen(tmp); k < (usize)width; k++) sb_putc(&b, (char)pad);
        sb_puts(&b, tmp);
    }
    return b.len;
}

/* ---- base64, UTF-8, hashes ----------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
usize p_base64_encode(const u8 *in, usize n, char *out) {
    usize o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        u32 v = (u32)in[i] << 16 | (u32)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18]; out[o++] = b64[(v >> 12) & 63]; out[o++] = b64[(v >> 6) & 63]; out[o++] = b64[v & 63];
    }
    if (i < n) {
        u32 v = (u32)in[i] << 16 | (i + 1 < n ? (u32)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18]; out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '='; out[o++] = '=';
    }
    out[o] = 0;
    return o;
}
static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}
usize p_base64_decode(const char *in, u8 *out) {
    usize o = 0; u32 acc = 0; int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64_value(*in);
        if (v < 0) continue;
        acc = acc << 6 | (u32)v; bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (u8)(acc >> bits); }
    }
    return o;
}
usize p_utf8_encode(u32 cp, u8 *out) {
    if (cp < 0x80) { out[0] = (u8)cp; return 1; }
    if (cp < 0x800) { out[0] = (u8)(0xc0 | cp >> 6); out[1] = (u8)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) { out[0] = (u8)(0xe0 | cp >> 12); out[1] = (u8)(0x80 | ((cp >> 6) & 63)); out[2] = (u8)(0x80 | (cp & 63)); return 3; }
    out[0] = (u8)(0xf0 | cp >> 18); out[1] = (u8)(0x80 | ((cp >> 12) & 63)); out[2] = (u8)(0x80 | ((cp >> 6) & 63)); out[3] = (u8)(0x80 | (cp & 63));
    return 4;
}
u32 p_utf8_decode(const u8 **p) {
    const u8 *s = *p; u32 c = *s++;
    if (c >= 0xf0) { c = (c & 7) << 18 | (u32)(s[0] & 63) << 12 | (u32)(s[1] & 63) << 6 | (s[2] & 63); s += 3; }
    else if (c >= 0xe0) { c = (c & 15) << 12 | (u32)(s[0] & 63) << 6 | (s[1] & 63); s += 2; }
    else if (c >= 0xc0) { c = (c & 31) << 6 | (s[0] & 63); s += 1; }
    *p = s;
    return c;
}
u64 p_fnv1a(const void *data, usize n) {
    const u8 *p = data; u64 h = 0xcbf29ce484222325ull;
    while (n--) { h ^= *p++; h *= 0x100000001b3ull; }
    return h;
}
static u32 crc_table[256];
u32 p_crc32(const u8 *p, usize n) {
    if (!crc_table[1]) for (u32 i = 0; i < 256; i++) { u32 c = i; for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1; crc_table[i] = c; }
    u32 c = 0xffffffffu;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}
u32 p_adler32(const u8 *p, usize n) { u32 a = 1, b = 0; while (n--) { a = (a + *p++) % 65521; b = (b + a) % 65521; } return b << 16 | a; }

/* ---- sorting and searching ------------------------------------------------------------ */

typedef int (*cmp_fn)(const void *, const void *);
static void swap_bytes(u8 *a, u8 *b, usize size) { while (size--) { u8 t = *a; *a++ = *b; *b++ = t; } }
void p_qsort(void *base, usize n, usize size, cmp_fn cmp) {
    u8 *b = base;
    while (n > 1) {
        if (n < 8) {
            for (usize i = 1; i < n; i++)
                for (usize j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--) swap_bytes(b + (j - 1) * size, b + j * size, size);
            return;
        }
        swap_bytes(b, b + (n / 2) * size, size);
        usize last = 0;
        for (usize i = 1; i < n; i++) if (cmp(b + i * size, b) < 0) swap_bytes(b + ++last * size, b + i * size, size);
        swap_bytes(b, b + last * size, size);
        if (last < n - last - 1) { p_qsort(b, last, size, cmp); b += (last + 1) * size; n -= last + 1; }
        else { p_qsort(b + (last + 1) * size, n - last - 1, size, cmp); n = last; }
    }
}
void *p_bsearch(const void *key, const void *base, usize n, usize size, cmp_fn cmp) {
    const u8 *b = base;
    while (n) {
        const u8 *mid = b + (n / 2) * size;
        int c = cmp(key, mid);
        if (!c) return (void *)mid;
        if (c > 0) { b = mid + size; n -= n / 2 + 1; } else n /= 2;
    }
    return 0;
}
static int cmp_i32(const void *a, const void *b) { i32 x = *(const i32 *)a, y = *(const i32 *)b; return (x > y) - (x < y); }
static int cmp_str(const void *a, const void *b) { return p_strcmp(*(const char *const *)a, *(const char *const *)b); }

/* ---- a hash map from names to values ------------------------------------------------- */

typedef struct { const char *key; usize klen; i64 value; int used; } slot;
typedef struct { slot *slots; usize cap, len; } map;
static void map_init(map *m, usize cap) { m->slots = p_alloc(cap * sizeof(slot)); memset(m->slots, 0, cap * sizeof(slot)); m->cap = cap; m->len = 0; }
static slot *map_find(map *m, const char *k, usize kl) {
    usize i = (usize)p_fnv1a(k, kl) & (m->cap - 1);
    for (;;) {
        slot *s = &m->slots[i];
        if (!s->used || (s->klen == kl && !memcmp(s->key, k, kl))) return s;
        i = (i + 1) & (m->cap - 1);
    }
}
static void map_set(map *m, const char *k, usize kl, i64 v) {
    slot *s = map_find(m, k, kl);
    if (!s->used) { s->used = 1; s->key = k; s->klen = kl; m->len++; }
    s->value = v;
}

/* ---- the expression language: tokens ---------------------------------------------- */

enum tok { T_EOF, T_NUM, T_NAME, T_LET, T_WHILE, T_IF, T_ELSE, T_PRINT, T_LP, T_RP, T_LB, T_RB,
           T_SEMI, T_ASSIGN, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT, T_LT, T_GT, T_LE, T_GE,
           T_EQ, T_NE, T_AND, T_OR, T_NOT, T_ERR };
typedef struct { const char *src; const char *p; enum tok t; i64 num; const char *name; usize nlen; } lexer;
static const struct { const char *kw; enum tok t; } keywords[] = {
    {"let", T_LET}, {"while", T_WHILE}, {"if", T_IF}, {"else", T_ELSE}, {"print", T_PRINT},
};
static void lex_next(lexer *l) {
    const char *p = l->p;
    for (;;) {
        while (p_isspace(*p)) p++;
        if (p[0] == '#') { while (*p && *p != '\n') p++; continue; }
        break;
    }
    l->name = p;
    if (!*p) { l->t = T_EOF; l->p = p; return; }
    if (p_isdigit(*p)) { l->num = p_atoi(p, &p); l->t = T_NUM; l->p = p; return; }
    if (p_isalpha(*p)) {
        const char *s = p;
        while (p_isalpha(*p) || p_isdigit(*p)) p++;
        l->nlen = (usize)(p - s); l->t = T_NAME; l->p = p;
        for (usize i = 0; i < sizeof keywords / sizeof *keywords; i++)
            if (p_strlen(keywords[i].kw) == l->nlen && !memcmp(keywords[i].kw, s, l->nlen)) l->t = keywords[i].t;
        return;
    }
    char c = *p++, d = *p;
    switch (c) {
    case '(': l->t = T_LP; break;
    case ')': l->t = T_RP; break;
    case '{': l->t = T_LB; break;
    case '}': l->t = T_RB; break;
    case ';': l->t = T_SEMI; break;
    case '+': l->t = T_PLUS; break;
    case '-': l->t = T_MINUS; break;
    case '*': l->t = T_STAR; break;
    case '/': l->t = T_SLASH; break;
    case '%': l->t = T_PCT; break;
    case '<': if (d == '=') { p++; l->t = T_LE; } else l->t = T_LT; break;
    case '>': if (d == '=') { p++; l->t = T_GE; } else l->t = T_GT; break;
    case '=': if (d == '=') { p++; l->t = T_EQ; } else l->t = T_ASSIGN; break;
    case '!': if (d == '=') { p++; l->t = T_NE; } else l->t = T_NOT; break;
    case '&': if (d == '&') { p++; l->t = T_AND; } else l->t = T_ERR; break;
    case '|': if (d == '|') { p++; l->t = T_OR; } else l->t = T_ERR; break;
    default: l->t = T_ERR; break;
    }
    l->p = p;
}

/* ---- bytecode --------------------------------------------------------------------------- */

enum op { OP_CONST, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LT, OP_GT, OP_LE,
          OP_GE, OP_EQ, OP_NE, OP_NOT, OP_NEG, OP_JMP, OP_JZ, OP_JNZ, OP_PRINT, OP_POP, OP_DUP, OP_HALT };
typedef struct { u8 op; i32 arg; } insn;
typedef struct { insn *code; usize len, cap; map vars; const char *err; i32 nvars; } compiler;
static usize emit(compiler *c, enum op op, i32 arg) {
    if (c->len == c->cap) {
        insn *n = p_alloc(c->cap * 2 * sizeof(insn));
        if (!n) { c->err = "out of memory"; return c->len; }
        memcpy(n, c->code, c->len * sizeof(insn)); c->code = n; c->cap *= 2;
    }
    c->code[c->len].op = (u8)op; c->code[c->len].arg = arg;
    return c->len++;
}
static i32 var_index(compiler *c, const char *name, usize n, int define) {
    slot *s = map_find(&c->vars, name, n);
    if (s->used) return (i32)s->value;
    if (!define) { c->err = "undefined variable"; return 0; }
    map_set(&c->vars, name, n, c->nvars);
    return c->nvars++;
}
static void expect(compiler *c, lexer *l, enum tok t) { if (l->t != t) c->err = "syntax error"; else lex_next(l); }
static void parse_expr(compiler *c, lexer *l);
static void parse_primary(compiler *c, lexer *l) {
    switch (l->t) {
    case T_NUM: emit(c, OP_CONST, (i32)l->num); lex_next(l); break;
    case T_NAME: emit(c, OP_LOAD, var_index(c, l->name, l->nlen, 0)); lex_next(l); break;
    case T_LP: lex_next(l); parse_expr(c, l); expect(c, l, T_RP); break;
    case T_MINUS: lex_next(l); parse_primary(c, l); emit(c, OP_NEG, 0); break;
    case T_NOT: lex_next(l); parse_primary(c, l); emit(c, OP_NOT, 0); break;
    default: c->err = "expected an expression"; break;
    }
}
static int precedence(enum tok t) {
    switch (t) {
    case T_OR: return 1;
    case T_AND: return 2;
    case T_EQ: case T_NE: return 3;
    case T_LT: case T_GT: case T_LE: case T_GE: return 4;
    case T_PLUS: case T_MINUS: return 5;
    case T_STAR: case T_SLASH: case T_PCT: return 6;
    default: return 0;
    }
}
static void parse_binary(compiler *c, lexer *l, int min) {
    parse_primary(c, l);
    for (;;) {
        enum tok t = l->t; int p = precedence(t);
        if (!p || p < min || c->err) return;
        lex_next(l);
        if (t == T_AND || t == T_OR) {
            emit(c, OP_DUP, 0);
            usize j = emit(c, t == T_AND ? OP_JZ : OP_JNZ, 0);
            emit(c, OP_POP, 0);
            parse_binary(c, l, p + 1);
            c->code[j].arg = (i32)c->len;
            continue;
        }
        parse_binary(c, l, p + 1);
        static const u8 ops[] = {[T_PLUS] = OP_ADD, [T_MINUS] = OP_SUB, [T_STAR] = OP_MUL, [T_SLASH] = OP_DIV, [T_PCT] = OP_MOD,
                                 [T_LT] = OP_LT, [T_GT] = OP_GT, [T_LE] = OP_LE, [T_GE] = OP_GE, [T_EQ] = OP_EQ, [T_NE] = OP_NE};
        emit(c, (enum op)ops[t], 0);
    }
}
static void parse_expr(compiler *c, lexer *l) { parse_binary(c, l, 1); }
static void parse_block(compiler *c, lexer *l);
static void parse_stmt(compiler *c, lexer *l) {
    if (c->err) return;
    switch (l->t) {
    case T_LET: case T_NAME: {
        int define = l->t == T_LET;
        if (define) lex_next(l);
        if (l->t != T_NAME) { c->err = "expected a name"; return; }
        const char *n = l->name; usize nl = l->nlen;
        lex_next(l); expect(c, l, T_ASSIGN); parse_expr(c, l); expect(c, l, T_SEMI);
        emit(c, OP_STORE, var_index(c, n, nl, define));
        break;
    }
    case T_PRINT: lex_next(l); parse_expr(c, l); expect(c, l, T_SEMI); emit(c, OP_PRINT, 0); break;
    case T_WHILE: {
        lex_next(l);
        usize top = c->len;
        expect(c, l, T_LP); parse_expr(c, l); expect(c, l, T_RP);
        usize exit = emit(c, OP_JZ, 0);
        parse_block(c, l);
        emit(c, OP_JMP, (i32)top);
        c->code[exit].arg = (i32)c->len;
        emit(c, OP_POP, 0);
        break;
    }
    case T_IF: {
        lex_next(l);
        expect(c, l, T_LP); parse_expr(c, l); expect(c, l, T_RP);
        usize skip = emit(c, OP_JZ, 0);
        emit(c, OP_POP, 0);
        parse_block(c, l);
        usize over = emit(c, OP_JMP, 0);
        c->code[skip].arg = (i32)c->len;
        emit(c, OP_POP, 0);
        if (l->t == T_ELSE) { lex_next(l); parse_block(c, l); }
        c->code[over].arg = (i32)c->len;
        break;
    }
    default: c->err = "expected a statement"; break;
    }
}
static void parse_block(compiler *c, lexer *l) {
    expect(c, l, T_LB);
    while (!c->err && l->t != T_RB && l->t != T_EOF) parse_stmt(c, l);
    expect(c, l, T_RB);
}
/* While-loop condition values stay on the stack on the taken path; OP_JZ/JNZ keep the
   tested value (it is popped explicitly), so both paths pop it once. */

typedef struct { i64 out_sum; u32 printed; const char *err; } vm_result;
static vm_result vm_run(const insn *code, usize len, i32 nvars, u64 fuel) {
    i64 stack[256]; i64 *vars = p_alloc((usize)(nvars ? nvars : 1) * sizeof(i64));
    usize sp = 0, pc = 0;
    vm_result r = {0, 0, 0};
    memset(vars, 0, (usize)(nvars ? nvars : 1) * sizeof(i64));
#define POP() stack[--sp]
#define BIN(expr) do { i64 b = POP(), a = POP(); stack[sp++] = (expr); } while (0)
    while (pc < len && fuel--) {
        insn in = code[pc++];
        if (sp > 250) { r.err = "stack overflow"; break; }
        switch (in.op) {
        case OP_CONST: stack[sp++] = in.arg; break;
        case OP_LOAD: stack[sp++] = vars[in.arg]; break;
        case OP_STORE: vars[in.arg] = POP(); break;
        case OP_ADD: BIN(a + b); break;
        case OP_SUB: BIN(a - b); break;
        case OP_MUL: BIN(a * b); break;
        case OP_DIV: { i64 b = POP(), a = POP(); if (!b) { r.err = "division by zero"; return r; } stack[sp++] = a / b; break; }
        case OP_MOD: { i64 b = POP(), a = POP(); if (!b) { r.err = "division by zero"; return r; } stack[sp++] = a % b; break; }
        case OP_LT: BIN(a < b); break;
        case OP_GT: BIN(a > b); break;
        case OP_LE: BIN(a <= b); break;
        case OP_GE: BIN(a >= b); break;
        case OP_EQ: BIN(a == b); break;
        case OP_NE: BIN(a != b); break;
        case OP_NOT: stack[sp - 1] = !stack[sp - 1]; break;
        case OP_NEG: stack[sp - 1] = -stack[sp - 1]; break;
        case OP_JMP: pc = (usize)in.arg; break;
        case OP_JZ: if (!stack[sp - 1]) pc = (usize)in.arg; else sp--; break;
        case OP_JNZ: if (stack[sp - 1]) pc = (usize)in.arg; break;
        case OP_PRINT: r.out_sum = r.out_sum * 31 + POP(); r.printed++; break;
        case OP_POP: sp--; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_HALT: return r;
        }
    }
#undef POP
#undef BIN
    return r;
}

/* Compiles and runs `src`; returns a checksum of what it printed, or 0 with *err set. */
u64 p_eval(const char *src, const char **err) {
    compiler c = {0};
    lexer l = {src, src, T_EOF, 0, 0, 0};
    c.cap = 64; c.code = p_alloc(c.cap * sizeof(insn));
    map_init(&c.vars, 64);
    lex_next(&l);
    while (!c.err && l.t != T_EOF) parse_stmt(&c, &l);
    emit(&c, OP_HALT, 0);
    if (c.err) { *err = c.err; return 0; }
    vm_result r = vm_run(c.code, c.len, c.nvars, 10000000);
    *err = r.err;
    return (u64)r.out_sum ^ ((u64)r.printed << 48);
}

/* ---- the benchmark entry point ---------------------------------------------------------- */

static const char *program_template =
    "# collatz lengths and a few sums\n"
    "let n = %d; let best = 0; let total = 0;\n"
    "while (n > 0) { let x = n; let steps = 0;\n"
    "  while (x != 1) { if (x %% 2 == 0) { x = x / 2; } else { x = 3 * x + 1; } steps = steps + 1; }\n"
    "  if (steps > best || steps == best && n %% 7 == 0) { best = steps; print n; }\n"
    "  total = total + steps; n = n - 1; }\n"
    "print total; print best;\n";

u64 p_run(u32 n) {
    char src[1024], num[64], enc[128];
    u8 dec[96];
    u64 sum = 0;
    const char *names[] = {"delta", "alpha", "echo", "charlie", "bravo", "foxtrot"};
    i32 values[64];
    for (u32 round = 0; round < n; round++) {
        p_reset();
        arg a[1] = {{.i = 200 + (i64)(round % 50)}};
        p_format(src, sizeof src, program_template, a);
        const char *err = 0;
        sum = sum * 1099511628211ull + p_eval(src, &err);
        if (err) sum ^= p_fnv1a(err, p_strlen(err));
        usize k = p_ftoa(p_atof("3.14159e2", 0) * round, num, 4);
        usize e = p_base64_encode((const u8 *)num, k, enc);
        sum += p_crc32(dec, p_base64_decode(enc, dec)) + e;
        for (u32 i = 0; i < 64; i++) values[i] = (i32)((i * 2654435761u + round) >> 7);
        p_qsort(values, 64, sizeof *values, cmp_i32);
        p_qsort(names, 6, sizeof *names, cmp_str);
        i32 key = values[round % 64];
        sum += (u64)((const i32 *)p_bsearch(&key, values, 64, sizeof *values, cmp_i32) - values);
        u8 utf[8]; const u8 *q = utf;
        p_utf8_encode(0x4e2d + round, utf);
        sum += p_utf8_decode(&q) + p_adler32((const u8 *)names[0], p_strlen(names[0]));
    }
    return sum;
}
