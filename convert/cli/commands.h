/* commands.h - entry points of the gptoss-convert subcommands (see commands.def). */
#ifndef GQ_COMMANDS_H
#define GQ_COMMANDS_H

#include "cli.h"

int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

#endif
