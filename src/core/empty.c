/* Placeholder translation unit for a program library that has no modules yet. */
typedef int kk_empty_translation_unit;
