/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h - the lockwarden subcommands. Each cmd_<name>() takes its own argv (argv[0] is
 * the subcommand name), prints its own --help, and returns the process exit code:
 * 0 success, 1 a verdict or operation failed, 2 usage or input errors. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#define LW_VERSION "0.1.0"

int cmd_check(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_executor(int argc, char **argv);

#endif /* CLI_CLI_H */
