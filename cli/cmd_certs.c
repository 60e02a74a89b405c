/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_certs.c - `lockwarden certs`: the CA and serving certificate for the webhook. */
#include "cli/cli.h"
#include "certs/certs.h"

int cmd_certs(int argc, char **argv)
{
    return certs_main(argc, argv);
}
