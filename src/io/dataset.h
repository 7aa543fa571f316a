/* dataset.h - the data set's memory, shared by the CSV reader (csv.c) and the split
 * (dataset.c). */
#ifndef WG_IO_DATASET_H
#define WG_IO_DATASET_H
#include "wengert.h"

/* Empty d, then give it x (rows x cols), y (rows x targets), a names array of cols NULLs and
 * one of targets NULLs. 0 on out of memory or when a size does not fit size_t; d is then freed
 * and empty. */
int wg_dataset_alloc(wg_dataset *d, int rows, int cols, int targets);

#endif
