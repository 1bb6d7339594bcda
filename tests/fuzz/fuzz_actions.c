/* fuzz_actions.c - libFuzzer target for the two parsers of operator-written
 * text in cellman's apply actions (src/cellman/actions.c): the template
 * renderer, actions_render_template(), and the unified-diff applier,
 * actions_apply_diff(). The first byte selects (selector % 3):
 *   0  template: the rest cut at its first NUL into the template and the
 *      tokens, lines NAME=VALUE (braces are taken out of the values unless
 *      selector / 3 is odd). A success holds no "{{" (when no value has a
 *      brace) and renders to itself again; a failure names a line of the
 *      template; a template without "{{" comes out unchanged.
 *   1  diff: the rest cut at its first NUL into the diff and the file (any
 *      bytes). Every result keeps the contract (0 or -1, a message with -1,
 *      *out NULL unless patched) and is the same when asked twice; a patched
 *      text gets the same diff again, under the same checks (it need not
 *      be found applied: the old lines may be elsewhere in it too, or the
 *      line numbers mislead the search for the new ones).
 *   2  a diff made here: the rest cut at its first NUL into the file and a
 *      script of edits (per hunk: a byte for the lines skipped and one for
 *      the context, deleted and added counts, then the added lines). The
 *      diff, with exact line numbers, must give exactly the text made here;
 *      the same diff on that text must not fail (applied already, or applied
 *      again: old lines can come back); the reversed diff must give the
 *      file back (or find it applied, when it has a hunk without old lines).
 * Inputs over 64 KiB are ignored. Build and run: see tests/fuzz/README.md. */
#include "actions.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64u << 10)

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_actions: check failed: %s (line %d)\n", #cond, __LINE__);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* ---- template ---------------------------------------------------------------- */

/* Lines NAME=VALUE of spec[0..len) (a NUL ends a line too; a line without
 * "=" is skipped) as a JSON object of strings. */
static json_t *tokens_from(const char *spec, size_t len, bool keep_braces, bool *braces)
{
    json_t *t = json_object();
    CHECK(t != NULL);
    *braces = false;
    for (const char *p = spec, *end = spec + len; p < end;) {
        size_t n = 0;
        while (p + n < end && p[n] != '\n' && p[n] != '\0')
            n++;
        const char *eq = memchr(p, '=', n);
        if (eq) {
            char *name = strndup(p, (size_t)(eq - p)), *value = malloc(n + 1);
            CHECK(name && value);
            size_t v = 0;
            for (const char *q = eq + 1; q < p + n; q++)
                if (keep_braces || (*q != '{' && *q != '}'))
                    value[v++] = *q;
            value[v] = '\0';
            *braces |= strpbrk(value, "{}") != NULL;
            CHECK(json_object_set_new_nocheck(t, name, json_string_nocheck(value)) == 0);
            free(name);
            free(value);
        }
        p += n + 1;
    }
    return t;
}

static void fuzz_template(const char *in, size_t len, bool keep_braces)
{
    size_t text_len = strnlen(in, len);
    char *text = strndup(in, text_len);
    CHECK(text != NULL);
    bool braces;
    json_t *tokens = text_len < len ? tokens_from(in + text_len + 1, len - text_len - 1, keep_braces, &braces)
                                    : tokens_from("", 0, keep_braces, &braces);
    struct cell_err err = {0};
    char *out = (char *)1;
    int rc = actions_render_template(text, tokens, &out, &err);
    CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        CHECK(out == NULL);
        unsigned long line = 0;
        int used = 0;
        CHECK(sscanf(err.msg, "line %lu: %n", &line, &used) == 1 && used > 0 && err.msg[used] != '\0');
        size_t lines = 1;
        for (const char *p = text; (p = strchr(p, '\n')); p++)
            lines++;
        CHECK(line >= 1 && line <= lines);
    } else {
        CHECK(out != NULL);
        if (strstr(text, "{{") == NULL)
            CHECK(strcmp(out, text) == 0);
        if (!braces) {
            CHECK(strstr(out, "{{") == NULL);
            char *again = NULL;
            CHECK(actions_render_template(out, tokens, &again, &err) == 0);
            CHECK(strcmp(again, out) == 0);
            free(again);
        }
    }
    free(out);
    json_decref(tokens);
    free(text);
}

/* ---- diff, as given -------------------------------------------------------- */

struct result {
    int rc;
    char *out;
    size_t len;
    struct cell_err err;
};

static struct result apply(const char *text, size_t len, const char *diff)
{
    struct result r = {.out = (char *)1, .len = (size_t)-1};
    r.rc = actions_apply_diff(text, len, diff, &r.out, &r.len, &r.err);
    CHECK(r.rc == 0 || r.rc == -1);
    if (r.rc < 0)
        CHECK(r.out == NULL && r.err.msg[0] != '\0');
    if (r.out)
        CHECK(r.len != (size_t)-1 && r.out[r.len] == '\0');
    return r;
}

static bool same(const struct result *a, const struct result *b)
{
    if (a->rc != b->rc || (a->out == NULL) != (b->out == NULL))
        return false;
    if (a->rc < 0)
        return strcmp(a->err.msg, b->err.msg) == 0;
    return a->out == NULL || (a->len == b->len && memcmp(a->out, b->out, a->len) == 0);
}

/* Apply twice; both the same. */
static struct result apply_checked(const char *text, size_t len, const char *diff)
{
    struct result r = apply(text, len, diff), again = apply(text, len, diff);
    CHECK(same(&r, &again));
    free(again.out);
    return r;
}

static void fuzz_diff(const char *in, size_t len)
{
    size_t diff_len = strnlen(in, len);
    char *diff = strndup(in, diff_len);
    CHECK(diff != NULL);
    const char *text = diff_len < len ? in + diff_len + 1 : "";
    size_t text_len = diff_len < len ? len - diff_len - 1 : 0;
    struct result r = apply_checked(text, text_len, diff);
    if (r.out) {
        struct result second = apply_checked(r.out, r.len, diff);
        free(second.out);
    }
    free(r.out);
    free(diff);
}

/* ---- diff, made here ------------------------------------------------------- */

struct line {
    const char *p;
    size_t len;
    bool nl;
};

/* A line of the diff: kind, the text, a newline, and the marker when the
 * text had none. */
static void put_line(FILE *m, char kind, const struct line *l)
{
    fputc(kind, m);
    fwrite(l->p, 1, l->len, m);
    fputs(l->nl ? "\n" : "\n\\ No newline at end of file\n", m);
}

static void put_text(FILE *m, const struct line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fwrite(v[i].p, 1, v[i].len, m);
        if (v[i].nl)
            fputc('\n', m);
    }
}

static void fuzz_made_diff(const char *in, size_t len)
{
    size_t text_len = strnlen(in, len);
    const char *script = in + text_len, *script_end = in + len;
    if (script < script_end)
        script++;
    /* the file's lines */
    size_t n = 0;
    struct line *file = calloc(text_len + 1, sizeof *file);
    CHECK(file != NULL);
    for (const char *p = in; p < in + text_len;) {
        const char *nl = memchr(p, '\n', (size_t)(in + text_len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(in + text_len - p);
        file[n++] = (struct line){.p = p, .len = l, .nl = nl != NULL};
        p += l + 1;
    }
    /* the diff, the reversed diff and the text they make */
    char *diff = NULL, *rdiff = NULL, *want = NULL;
    size_t diff_len, rdiff_len, want_len;
    FILE *d = open_memstream(&diff, &diff_len), *rd = open_memstream(&rdiff, &rdiff_len),
         *w = open_memstream(&want, &want_len);
    CHECK(d && rd && w);
    fputs("--- a/file\n+++ b/file\n", d);
    fputs("--- b/file\n+++ a/file\n", rd);
    size_t at = 0, next = 0, hunks = 0; /* at: the file copied up to; next: the first line a hunk may take */
    ptrdiff_t delta = 0;                /* lines added so far, less those deleted */
    bool insert_only_reversed = false;
    while (script_end - script >= 2) {
        unsigned skip = (unsigned char)*script++, shape = (unsigned char)*script++;
        size_t start = next + skip % 4;
        if (start >= n)
            break;
        size_t left = n - start;
        size_t before = shape % 3 < left ? shape % 3 : left;
        size_t del = (shape / 3) % 3 < left - before ? (shape / 3) % 3 : left - before;
        size_t after = (shape / 9) % 3 < left - before - del ? (shape / 9) % 3 : left - before - del;
        size_t add = (shape / 27) % 4;
        if (before + del + after == 0)
            break;
        bool to_end = start + before + del + after == n;
        /* a context line without a newline (the file's last) is the hunk's last */
        if (to_end && !file[n - 1].nl && del == 0 && after == 0)
            add = 0;
        struct line added[4];
        for (size_t i = 0; i < add; i++) {
            const char *p = script;
            while (script < script_end && *script != '\n' && *script != '\0')
                script++;
            added[i] = (struct line){.p = p, .len = (size_t)(script - p), .nl = true};
            if (script < script_end)
                script++;
        }
        /* the last added line may lack its newline when nothing follows it
         * (and it is not empty: that would be no line at all) */
        if (add > 0 && to_end && after == 0 && (skip & 4) && added[add - 1].len > 0)
            added[add - 1].nl = false;
        size_t old_n = before + del + after, new_n = before + add + after;
        size_t new_start = start + (size_t)delta;
        fprintf(d, "@@ -%zu,%zu +%zu,%zu @@\n", start + 1, old_n, new_n ? new_start + 1 : new_start, new_n);
        fprintf(rd, "@@ -%zu,%zu +%zu,%zu @@\n", new_n ? new_start + 1 : new_start, new_n, start + 1, old_n);
        insert_only_reversed |= new_n == 0;
        for (size_t i = 0; i < before; i++) {
            put_line(d, ' ', &file[start + i]);
            put_line(rd, ' ', &file[start + i]);
        }
        for (size_t i = 0; i < del; i++) {
            put_line(d, '-', &file[start + before + i]);
            put_line(rd, '+', &file[start + before + i]);
        }
        for (size_t i = 0; i < add; i++) {
            put_line(d, '+', &added[i]);
            put_line(rd, '-', &added[i]);
        }
        for (size_t i = 0; i < after; i++) {
            put_line(d, ' ', &file[start + before + del + i]);
            put_line(rd, ' ', &file[start + before + del + i]);
        }
        put_text(w, file + at, start + before - at);
        put_text(w, added, add);
        at = start + before + del;
        next = at + after;
        delta += (ptrdiff_t)add - (ptrdiff_t)del;
        hunks++;
    }
    put_text(w, file + at, n - at);
    CHECK(fclose(d) == 0 && fclose(rd) == 0 && fclose(w) == 0);
    if (hunks > 0) {
        /* every hunk has old lines, at the line its @@ says */
        struct result r = apply_checked(in, text_len, diff);
        CHECK(r.rc == 0 && r.out != NULL);
        CHECK(r.len == want_len && memcmp(r.out, want, want_len) == 0);
        struct result again = apply_checked(r.out, r.len, diff);
        CHECK(again.rc == 0);
        struct result back = apply_checked(r.out, r.len, rdiff);
        CHECK(back.rc == 0);
        if (back.out)
            CHECK(back.len == text_len && memcmp(back.out, in, text_len) == 0);
        else
            CHECK(insert_only_reversed);
        free(back.out);
        free(again.out);
        free(r.out);
    }
    free(want);
    free(rdiff);
    free(diff);
    free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_INPUT)
        return 0;
    const char *in = (const char *)data + 1;
    switch (data[0] % 3) {
    case 0:
        fuzz_template(in, size - 1, (data[0] / 3) % 2);
        break;
    case 1:
        fuzz_diff(in, size - 1);
        break;
    default:
        fuzz_made_diff(in, size - 1);
        break;
    }
    return 0;
}
