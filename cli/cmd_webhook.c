/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_webhook.c - `lockwarden webhook`: the admission webhook over HTTPS. */
#include "cli/cli.h"
#include "webhook/wh.h"

int cmd_webhook(int argc, char **argv)
{
    return wh_main(argc, argv);
}
