/* Every scene of the kiosk, by its table. A scene names another only through this list
 * (to push it), never by including it: scene files do not include each other. */
#ifndef SCENES_H
#define SCENES_H

#include "scene_stack.h"

extern const struct scene scene_attract, scene_audience, scene_menu, scene_reader, scene_empty,
    scene_quiz, scene_staff_pin, scene_staff, scene_staff_import, scene_staff_touch;

#endif
