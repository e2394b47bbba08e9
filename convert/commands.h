/* commands.h - entry points of the gptoss-convert subcommands (see commands.def). */
#ifndef GQ_COMMANDS_H
#define GQ_COMMANDS_H

#include "cli.h"

#endif
