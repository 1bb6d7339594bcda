/* fuzz_lua.c - libFuzzer target for the Lua desired-state loader
 * (src/lib/spec_lua.c): the input is one spec file's text. Small
 * instruction and memory limits keep each run short. Besides crashes and
 * sanitizer reports it checks that a refusal carries a message and keeps
 * nothing, and that every accepted cell has a valid name, `cell run -d`
 * arguments and a command. */
#include "cell/desired.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_lua: check failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cell_desired_opts opts = {.instructions = 200000, .memory_bytes = 8u << 20, .volumes_dir = "/vol"};
    struct cell_desired d;
    struct cell_err err = {0};
    if (cell_desired_load_text("fuzz.lua", (const char *)data, size, &opts, &d, &err) < 0) {
        check(err.msg[0] != '\0', "a refusal says why");
        check(d.ncells == 0 && d.nvolumes == 0 && d.napplies == 0, "a refusal keeps nothing");
        return 0;
    }
    for (size_t i = 0; i < d.ncells; i++) {
        check(cell_name_valid(d.cells[i].name), "a valid cell name");
        check(json_is_array(d.cells[i].args) && json_array_size(d.cells[i].args) >= 4, "run -d arguments");
        check(d.cells[i].spec.argv && d.cells[i].spec.argv[0], "a command");
    }
    cell_desired_free(&d);
    return 0;
}
