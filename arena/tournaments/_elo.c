/* Elo's bootstrap replicates, step after step: the loop `ratings.elo_ratings` runs with numpy vectors across
 * replicates, here as plain C over buffers (the module is optional: without a compiler the numpy loop runs).
 *
 * run(ratings, first, second, score, weight, rows, width, players)
 *   ratings  float64[replicates * players], updated in place (replicate b's ratings at b * players)
 *   first, second  int64[distinct * width]: each distinct match's comparisons (first beats second with `score`)
 *   score, weight  float64[distinct * width]: a comparison's score and its K (0 pads a match with fewer)
 *   rows     int32[replicates * steps]: replicate b's steps, as distinct matches, at b * steps
 * Every comparison moves both ratings by K (S - E), E = 1 / (1 + 10^((R_second - R_first) / 400)), the power
 * taken as exp((R_second - R_first) ln(10) / 400) (a third faster than pow).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

static const double LN10_400 = 2.302585092994045684017991454684364208 / 400.0;

static int view(PyObject *object, Py_buffer *buffer, int writable, Py_ssize_t item, const char *name) {
    if (PyObject_GetBuffer(object, buffer, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        return -1;
    }
    if (buffer->itemsize != item || buffer->len % item) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes", name, item);
        PyBuffer_Release(buffer);
        return -1;
    }
    return 0;
}

static PyObject *run(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *objects[6];
    Py_ssize_t width, players;
    if (!PyArg_ParseTuple(args, "OOOOOOnn", &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &width, &players)) {
        return NULL;
    }
    static const char *names[6] = {"ratings", "first", "second", "score", "weight", "rows"};
    static const Py_ssize_t items[6] = {8, 8, 8, 8, 8, 4};
    Py_buffer buffers[6];
    int held = 0;
    for (; held < 6; held++) {
        if (view(objects[held], &buffers[held], held == 0, items[held], names[held]) < 0) {
            break;
        }
    }
    PyObject *result = NULL;
    if (held == 6) {
        double *ratings = buffers[0].buf;
        const int64_t *first = buffers[1].buf, *second = buffers[2].buf;
        const int32_t *rows = buffers[5].buf;
        const double *score = buffers[3].buf, *weight = buffers[4].buf;
        Py_ssize_t replicates = players > 0 ? buffers[0].len / 8 / players : 0;
        Py_ssize_t distinct = width > 0 ? buffers[1].len / 8 / width : 0;
        Py_ssize_t steps = replicates > 0 ? buffers[5].len / 4 / replicates : 0;
        int bad = width <= 0 || players <= 0 || buffers[2].len != buffers[1].len || buffers[3].len != buffers[1].len
                  || buffers[4].len != buffers[1].len || steps * replicates * 4 != buffers[5].len;
        for (Py_ssize_t m = 0; !bad && m < distinct * width; m++) {
            bad = first[m] < 0 || first[m] >= players || second[m] < 0 || second[m] >= players;
        }
        for (Py_ssize_t t = 0; !bad && t < steps * replicates; t++) {
            bad = rows[t] < 0 || rows[t] >= distinct;
        }
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "run: buffers of inconsistent sizes or indices out of range");
        } else {
            Py_BEGIN_ALLOW_THREADS;
            /* Steps outer, replicates inner: one replicate's steps depend on each other, different
             * replicates' do not, so the processor overlaps them. */
            for (Py_ssize_t t = 0; t < steps; t++) {
                for (Py_ssize_t b = 0; b < replicates; b++) {
                    double *own = ratings + b * players;
                    Py_ssize_t at = (Py_ssize_t)rows[b * steps + t] * width;
                    for (Py_ssize_t c = 0; c < width; c++) {
                        double *i = own + first[at + c], *j = own + second[at + c];
                        double expected = 1.0 / (1.0 + exp((*j - *i) * LN10_400));
                        double delta = weight[at + c] * (score[at + c] - expected);
                        *i += delta;
                        *j -= delta;
                    }
                }
            }
            Py_END_ALLOW_THREADS;
            result = Py_None;
            Py_INCREF(result);
        }
    }
    while (held-- > 0) {
        PyBuffer_Release(&buffers[held]);
    }
    return result;
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS, "run(ratings, first, second, score, weight, rows, width, players): Elo's steps."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_elo", "Elo's bootstrap replicates in C.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__elo(void) { return PyModule_Create(&module); }
