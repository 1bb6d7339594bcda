/* fuzz_args.c - libFuzzer target for the `cell run` command line: the input,
 * split at NUL bytes, becomes the arguments after "run"; they go through
 * cell_spec_from_args() (src/lib/spec_args.c) into a cell_spec, then the command
 * is set and cell_spec_validate() checks the whole spec, as `cell run` does.
 * Besides crashes and sanitizer reports it checks that every failure leaves
 * a non-empty message and every success a spec with a command.
 * Build and run: see tests/fuzz/README.md. */
#include "cell/cell.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_args: check failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "run";
    for (char *p = text; argc < MAX_ARGS && p <= text + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    int first = cell_spec_from_args(argc, argv, &spec, &err);
    if (first < 0) {
        check(err.msg[0] != '\0', "a failed parse has a message");
    } else if (first > 0) {
        check(first < argc, "a command follows the options");
        if (cell_spec_set_argv(&spec, argv + first, &err) == 0 && cell_spec_validate(&spec, &err) == 0)
            check(spec.argv != NULL && spec.argv[0] != NULL, "a valid spec has a command");
        else
            check(err.msg[0] != '\0', "a failed validation has a message");
    }
    cell_spec_free(&spec);
    free(text);
    return 0;
}
