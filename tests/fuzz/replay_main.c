/* SPDX-License-Identifier: Apache-2.0 */
/* replay_main.c - runs a fuzz target over every file of its checked-in corpus, so
 * that `make test` (and `make check` under ASan+UBSan) replays each corpus. */
#include "common/cm.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
    struct cm_err err;
    size_t files = 0;
    int i;

    for (i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *de;

        if (d == NULL) {
            fprintf(stderr, "replay: cannot open corpus %s\n", argv[i]);
            return 1;
        }
        while ((de = readdir(d)) != NULL) {
            char path[4096];
            char *buf = NULL;
            size_t len = 0;

            if (de->d_name[0] == '.')
                continue;
            (void)snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            if (cm_fs_read_file(path, 1u << 24, &buf, &len, &err) != 0) {
                fprintf(stderr, "replay: %s\n", err.msg);
                closedir(d);
                return 1;
            }
            (void)LLVMFuzzerTestOneInput((const unsigned char *)buf, len);
            cm_free(buf);
            files++;
        }
        closedir(d);
    }
    if (files == 0) {
        fprintf(stderr, "replay: empty corpus\n");
        return 1;
    }
    printf("replay: %zu passed, 0 failed\n", files);
    return 0;
}
