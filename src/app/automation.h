/* The automation channel (DESIGN.md, docs/automation.md): JSON commands on stdin, JSON
 * lines on stdout. */
#ifndef AUTOMATION_H
#define AUTOMATION_H

#include "app.h"

/* Starts the reader thread and plugs the channel into a (a->on_command, a->on_screen). */
void automation_start(struct app *a);

#endif
