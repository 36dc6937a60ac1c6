/* The hot paths of tracing, in C: recording one primitive on the reverse tape
 * (VJPTrace.process), the backward pass over the tape (the loop of reverse.backward), and on
 * the tracer side NumPy's ufunc protocol (Tracer.__array_ufunc__) and the binary operators.
 *
 * They do exactly what the Python versions in reverse.py, trace.py and _methods.py do, which
 * stay the reference and the fallback: a build without a C compiler, WENGERT_PURE_PYTHON=1, and every case these
 * functions do not spell out (arities other than one and two, a tape that is not a list,
 * an argument that is not a plain VJPTracer...) run the Python code. Nothing here knows an
 * operation or an array library: values are opaque objects, and rules are called as Python
 * callables.
 *
 * The Python classes keep their __slots__; their member descriptors give the byte offsets at
 * which this module reads and writes the slots, as CPython's own descriptors do. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* NumPy's C API only to read an ndarray's size, shape, dtype and flags (what the Python
 * versions read through attributes); values are still computed by calling Python. */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL wengert_speedups_ARRAY_API
#include <numpy/arrayobject.h>

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

static PyTypeObject *VJPTrace_T, *VJPTracer_T, *Tracer_T, *Primitive_T, *ndarray_T;
static PyObject *py_process;  /* the Python VJPTrace.process: every case not spelled out */
static PyObject *py_add;      /* reverse._add: accumulation into a position that has a value */
static PyObject *sparse_types; /* the SparseCotangent subclasses (a set) */
static PyObject *globals;     /* reverse's module dict: KEEP_MIN is read from it per use */
static PyObject *s_shape, *s_dtype, *s_KEEP_MIN, *s_ELIDE_BYTES, *s_materialize, *s_vjp, *out_kwnames;
static PyObject *which0, *which1, *which01;
static Py_ssize_t o_trace, o_primal, o_idx, o_impl, o_vjp, o_nondiff, o_keep, o_tape, o_keepflag;

static int
slot_offset(PyObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString(cls, name);
    if (d == NULL)
        return -1;
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type) ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%R.%s is not a __slots__ member", cls, name);
        Py_DECREF(d);
        return -1;
    }
    *out = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    return 0;
}

/* Whether x is an ndarray of at least KEEP_MIN elements: -1 on error. */
static int
is_big(PyObject *x)
{
    if (!Py_IS_TYPE(x, ndarray_T))
        return 0;
    PyObject *lim = PyDict_GetItemWithError(globals, s_KEEP_MIN);
    if (lim == NULL)
        return PyErr_Occurred() ? -1 : 0;
    Py_ssize_t n = PyLong_AsSsize_t(lim);
    if (n == -1 && PyErr_Occurred())
        return -1;
    return PyArray_SIZE((PyArrayObject *)x) >= n;
}

/* fn(self, prim, args, params): a Python process, for the cases the C ones do not spell out. */
static PyObject *
call4(PyObject *fn, PyObject *self, PyObject *prim, PyObject *args, PyObject *params)
{
    PyObject *stack[4] = {self, prim, args, params};
    return PyObject_Vectorcall(fn, stack, 4, NULL);
}

#define slow_process(self, prim, args, params) call4(py_process, self, prim, args, params)

static PyObject *bind(PyObject *prim, PyObject *const *args, Py_ssize_t n, PyObject *tuple,
                      PyObject *params);

/* A primitive's output one level down, as both traces compute it: bind again where a value
 * is itself traced (an outer transformation's tracer), else the impl directly. Sets *nondiff
 * to whether the primitive is piecewise constant. */
static PyObject *
primal_out(PyObject *prim, PyObject *const *vals, Py_ssize_t n, PyObject *params, int *nondiff)
{
    PyObject *ans;
    if (PyObject_TypeCheck(vals[0], Tracer_T) || (n == 2 && PyObject_TypeCheck(vals[1], Tracer_T)))
        ans = bind(prim, vals, n, NULL, params);
    else
        ans = PyObject_VectorcallDict(SLOT(prim, o_impl), vals, n,
                                      PyDict_GET_SIZE(params) ? params : NULL);
    if (ans != NULL && (*nondiff = PyObject_IsTrue(SLOT(prim, o_nondiff))) < 0)
        Py_CLEAR(ans);
    return ans;
}

/* process(prim, args, params)'s arguments: 1 where a C version handles the call (a
 * Primitive, a tuple of one or two arguments, a dict), 0 where the Python one must, -1 on
 * error. */
static int
spelled_out(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "process(prim, args, params)");
        return -1;
    }
    Py_ssize_t n = PyTuple_CheckExact(args[1]) ? PyTuple_GET_SIZE(args[1]) : 0;
    return Py_IS_TYPE(args[0], Primitive_T) && PyDict_CheckExact(args[2]) && (n == 1 || n == 2);
}

/* ---- Temporary elision --------------------------------------------------------------
 *
 * In ``100 * (x - y)**2`` plain NumPy writes each result into the temporary it consumes
 * (NumPy's temporary elision): Rosenbrock on 10**6 points then streams through three arrays,
 * not seven. A traced temporary holds its array, so NumPy never sees one; the binary
 * operators below do it instead. An operand's array may become the result's when
 *  - the operand is a temporary: a reference count of one, owned by the interpreter's
 *    evaluation stack (``from_eval_stack``);
 *  - its array is held by that tracer alone, owns its memory, is writeable, of at least
 *    ELIDE_BYTES (reverse.py), float64 or complex128 (so a Python number or an array of its
 *    dtype on the other side gives a result of its dtype), and the other operand neither
 *    broadcasts it larger nor changes its dtype;
 *  - the tape does not keep it (the primitive's keep rule drops it from the record).
 * The result is then the ufunc's with ``out=`` that array: the same values, bit for bit. */

#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030E0000
/* Python 3.14's stack may hold borrowed references: it answers the question itself. */
static int
from_eval_stack(PyObject *o)
{
    return PyUnstable_Object_IsUniqueReferencedTemporary(o);
}

static PyObject *
elision_learn(PyObject *module, PyObject *on)
{
    Py_RETURN_NONE;
}
#elif !defined(Py_GIL_DISABLED) && defined(__GLIBC__) && PY_VERSION_HEX >= 0x030B0000
#include <dlfcn.h>
#include <execinfo.h>
#include <string.h>

static int elide_state;            /* 0 not set up, 1 usable, -1 unavailable */
static int binary_op;              /* the opcode BINARY_OP (dis.opmap) */
static void *python_base, *own_base; /* where the Python runtime and this module are loaded */
static void *eval_sites[16], *runtime_sites[64];
static int n_eval_sites, n_runtime_sites;
/* The chains of runtime frames between this module's operator and the interpreter's frame
 * evaluation that a plain binary operator takes (slot_nb_*, binary_op1, PyNumber_*...): learnt
 * at import by elision_learn from one traced expression per operator, and the only ones
 * accepted afterwards. */
#define MAX_LINKS 8
static void *chains[64][MAX_LINKS];
static int chain_len[64], n_chains, learning;

static int
known(void *const *sites, int n, void *pc)
{
    for (int i = 0; i < n; i++)
        if (sites[i] == pc)
            return 1;
    return 0;
}

static int
elision_setup(void)
{
    Dl_info info;
    if (!dladdr((void *)&PyNumber_Or, &info) || info.dli_fbase == NULL)
        return -1;
    python_base = info.dli_fbase;
    if (!dladdr((void *)&known, &info) || info.dli_fbase == NULL)
        return -1;
    own_base = info.dli_fbase;
    PyObject *dis = PyImport_ImportModule("dis");
    PyObject *opmap = dis ? PyObject_GetAttrString(dis, "opmap") : NULL;
    PyObject *op = opmap ? PyMapping_GetItemString(opmap, "BINARY_OP") : NULL;
    binary_op = op ? (int)PyLong_AsLong(op) : -1;
    Py_XDECREF(dis);
    Py_XDECREF(opmap);
    Py_XDECREF(op);
    if (PyErr_Occurred() || binary_op < 0) {
        PyErr_Clear();
        return -1;
    }
    return 1;
}

/* Whether the innermost Python frame is executing a binary operator (BINARY_OP): its
 * operands are then references its evaluation stack owns. */
static int
at_binary_op(void)
{
    PyFrameObject *f = PyEval_GetFrame();
    int lasti = f ? PyFrame_GetLasti(f) : -1;
    if (lasti < 0)
        return 0;
    PyCodeObject *co = PyFrame_GetCode(f);
    PyObject *code = PyCode_GetCode(co);
    Py_DECREF(co);
    if (code == NULL) {
        PyErr_Clear();
        return 0;
    }
    int op = lasti < PyBytes_GET_SIZE(code) ? (unsigned char)PyBytes_AS_STRING(code)[lasti] : -1;
    Py_DECREF(code);
    return op == binary_op;
}

/* Whether ``o``, an operand of the current operator call with a reference count of one, is
 * owned by the evaluation stack of the Python frame below (NumPy's check_callers, in
 * temp_elide.c, reasons alike, less strictly): that frame is executing a binary operator,
 * and between this module's innermost frames and its evaluation run exactly the runtime
 * frames of a plain operator call (a chain learnt at import). Anything else rules it out: a
 * C extension in between (NumPy's loop over an object array lends its elements), a runtime
 * function that calls our operator with a reference it keeps (a bound method, functools.
 * partial, map, list.sort's key), or an unknown frame. */
static int
from_eval_stack(PyObject *o)
{
    if (Py_REFCNT(o) != 1 || elide_state < 0)
        return 0;
    if (elide_state == 0 && (elide_state = elision_setup()) < 0)
        return 0;
    if (!at_binary_op())
        return 0;
    void *pcs[16], *links[MAX_LINKS];
    int n = backtrace(pcs, 16), i = 1, m = 0;
    Dl_info info;
    for (; i < n; i++) {  /* this module's frames, innermost */
        if (known(runtime_sites, n_runtime_sites, pcs[i]) || known(eval_sites, n_eval_sites, pcs[i]))
            break;
        if (!dladdr(pcs[i], &info))
            return 0;
        if (info.dli_fbase != own_base)
            break;
    }
    for (; i < n; i++) {  /* then the runtime's, up to the frame evaluation */
        if (known(eval_sites, n_eval_sites, pcs[i]))
            break;
        if (!known(runtime_sites, n_runtime_sites, pcs[i])) {
            if (!dladdr(pcs[i], &info) || info.dli_fbase != python_base)
                return 0;
            if (info.dli_sname && strcmp(info.dli_sname, "_PyEval_EvalFrameDefault") == 0) {
                if (n_eval_sites < 16)
                    eval_sites[n_eval_sites++] = pcs[i];
                break;
            }
            if (n_runtime_sites < 64)
                runtime_sites[n_runtime_sites++] = pcs[i];
        }
        if (m == MAX_LINKS)
            return 0;
        links[m++] = pcs[i];
    }
    if (i >= n)
        return 0;
    for (int c = 0; c < n_chains; c++)
        if (chain_len[c] == m && !memcmp(chains[c], links, m * sizeof(void *)))
            return !learning;
    if (learning && n_chains < 64) {
        memcpy(chains[n_chains], links, m * sizeof(void *));
        chain_len[n_chains++] = m;
    }
    return 0;
}

/* elision_learn(on): while on, the operators record the runtime frames of their calls as
 * the plain operator chains (and elide nothing); _methods.py runs one traced expression per
 * operator in between. */
static PyObject *
elision_learn(PyObject *module, PyObject *on)
{
    int v = PyObject_IsTrue(on);
    if (v < 0)
        return NULL;
    learning = v;
    Py_RETURN_NONE;
}
#else
static int
from_eval_stack(PyObject *o)
{
    (void)o;
    return 0;
}

static PyObject *
elision_learn(PyObject *module, PyObject *on)
{
    Py_RETURN_NONE;
}
#endif

/* The number of bytes from which an array is elided: reverse.ELIDE_BYTES, read per use
 * (tests lower it), or -1 on error. */
static Py_ssize_t
elide_bytes(void)
{
    PyObject *lim = PyDict_GetItemWithError(globals, s_ELIDE_BYTES);
    if (lim == NULL)
        return PyErr_Occurred() ? -1 : PY_SSIZE_T_MAX;
    return PyLong_AsSsize_t(lim);
}

/* Whether tracer ``t``, an operand, is a temporary whose array the result may take (the
 * conditions on the operand itself, above): -1 on error. */
static int
elidable(PyObject *t)
{
    if (!Py_IS_TYPE(t, VJPTracer_T) || Py_REFCNT(t) != 1)
        return 0;
    PyObject *p = SLOT(t, o_primal);
    if (p == NULL || !Py_IS_TYPE(p, ndarray_T) || Py_REFCNT(p) != 1)
        return 0;
    PyArrayObject *a = (PyArrayObject *)p;
    int tn = PyArray_DESCR(a)->type_num;
    if ((tn != NPY_DOUBLE && tn != NPY_CDOUBLE) || PyArray_BASE(a) != NULL ||
        !PyArray_ISNBO(PyArray_DESCR(a)->byteorder) ||
        !PyArray_CHKFLAGS(a, NPY_ARRAY_OWNDATA | NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED))
        return 0;
    Py_ssize_t lim = elide_bytes();
    if (lim < 0)
        return PyErr_Occurred() ? -1 : 0;
    return PyArray_NBYTES(a) >= lim && from_eval_stack(t);
}

/* Whether operand value ``o`` combined with array ``p`` gives a result of p's shape and dtype
 * (p float64 or complex128): a Python int or float, a NumPy scalar of p's type, or an array
 * of p's dtype that broadcasts to p's shape. */
static int
fits_into(PyObject *o, PyArrayObject *p)
{
    int tn = PyArray_DESCR(p)->type_num;
    if (PyFloat_CheckExact(o) || PyLong_CheckExact(o))
        return 1;
    if (tn == NPY_DOUBLE ? PyArray_IsScalar(o, Double) : PyArray_IsScalar(o, CDouble))
        return 1;
    if (!Py_IS_TYPE(o, ndarray_T))
        return 0;
    PyArrayObject *b = (PyArrayObject *)o;
    int nb = PyArray_NDIM(b), np_ = PyArray_NDIM(p);
    if (PyArray_DESCR(b)->type_num != tn || !PyArray_ISNBO(PyArray_DESCR(b)->byteorder) ||
        nb > np_)
        return 0;
    for (int i = 1; i <= nb; i++) {
        npy_intp db = PyArray_DIMS(b)[nb - i];
        if (db != 1 && db != PyArray_DIMS(p)[np_ - i])
            return 0;
    }
    return 1;
}

/* The operand position (0 or 1) whose array ``ufunc(a, b)`` may write into, given the
 * operator's operands ``self`` (a tracer of ``trace``) and ``other``; -1 for none. */
static int
elision_site(PyObject *trace, PyObject *self, PyObject *other, int swap)
{
    PyObject *sv = Py_IS_TYPE(self, VJPTracer_T) ? SLOT(self, o_primal) : NULL;
    if (sv == NULL)
        return -1;
    int e = elidable(self);
    if (e < 0)
        return -2;
    PyObject *ov = other;
    if (PyObject_TypeCheck(other, Tracer_T)) {
        if (!Py_IS_TYPE(other, VJPTracer_T) || SLOT(other, o_trace) != trace ||
            (ov = SLOT(other, o_primal)) == NULL)
            return -1;
    }
    if (e && fits_into(ov, (PyArrayObject *)sv))
        return swap ? 1 : 0;
    if (ov == other)
        return -1;
    e = elidable(other);
    if (e < 0)
        return -2;
    if (e && fits_into(sv, (PyArrayObject *)ov))
        return swap ? 0 : 1;
    return -1;
}

/* ``ufunc(*vals, out=vals[k])`` for the record about to be made, where the tape drops
 * vals[k] and nothing else holds it; NULL without an error where it may not. */
static PyObject *
elided(PyObject *self, PyObject *prim, PyObject *ufunc, PyObject *which, PyObject *valtuple,
       int k)
{
    PyObject *keep = SLOT(prim, o_keep), *p = PyTuple_GET_ITEM(valtuple, k);
    if (keep == NULL || keep == Py_None)
        return NULL;
    int kept_all = PyObject_IsTrue(SLOT(self, o_keepflag));
    if (kept_all != 0)
        return NULL;
    PyObject *kv = PyObject_CallFunctionObjArgs(keep, which, Py_None, valtuple, NULL);
    if (kv == NULL)
        return NULL;
    int kept = !PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2 ||
               !PyTuple_Check(PyTuple_GET_ITEM(kv, 1)) ||
               PyTuple_GET_SIZE(PyTuple_GET_ITEM(kv, 1)) != PyTuple_GET_SIZE(valtuple) ||
               PyTuple_GET_ITEM(PyTuple_GET_ITEM(kv, 1), k) == p;
    Py_DECREF(kv);
    /* held by the operand's tracer and valtuple, nothing else (the keep rule kept no copy) */
    if (kept || Py_REFCNT(p) != 2)
        return NULL;
    PyObject *stack[3] = {PyTuple_GET_ITEM(valtuple, 0), PyTuple_GET_ITEM(valtuple, 1), p};
    return PyObject_Vectorcall(ufunc, stack, 2, out_kwnames);
}

static PyObject *vjp_record(PyObject *self, PyObject *prim, PyObject *targs, PyObject *params,
                            int elide, PyObject *ufunc);

/* VJPTrace.process(prim, args, params): see the Python version in reverse.py. */
static PyObject *
vjp_process(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int ok = spelled_out(args, nargs);
    if (ok <= 0)
        return ok < 0 ? NULL : slow_process(self, args[0], args[1], args[2]);
    return vjp_record(self, args[0], args[1], args[2], -1, NULL);
}

/* process's work; ``elide`` >= 0: the operand whose array ``ufunc`` may write into (see
 * elided), from a binary operator. */
static PyObject *
vjp_record(PyObject *self, PyObject *prim, PyObject *targs, PyObject *params, int elide,
           PyObject *ufunc)
{
    PyObject *tape = SLOT(self, o_tape);
    if (tape == NULL || !PyList_CheckExact(tape))
        return slow_process(self, prim, targs, params);

    Py_ssize_t n = PyTuple_GET_SIZE(targs);
    PyObject *vals[2], *pa = NULL, *pb = NULL, *which;
    if (n == 1) {
        PyObject *a = PyTuple_GET_ITEM(targs, 0);
        if (!Py_IS_TYPE(a, VJPTracer_T) || SLOT(a, o_trace) != self)
            return slow_process(self, prim, targs, params);
        vals[0] = SLOT(a, o_primal);
        pa = SLOT(a, o_idx);
        which = which0;
    }
    else if (n == 2) {
        PyObject *a = PyTuple_GET_ITEM(targs, 0), *b = PyTuple_GET_ITEM(targs, 1);
        int ta = Py_IS_TYPE(a, VJPTracer_T) && SLOT(a, o_trace) == self;
        int tb = Py_IS_TYPE(b, VJPTracer_T) && SLOT(b, o_trace) == self;
        if (ta && tb) {
            vals[0] = SLOT(a, o_primal), vals[1] = SLOT(b, o_primal);
            pa = SLOT(a, o_idx), pb = SLOT(b, o_idx);
            which = which01;
            if (pb == NULL || vals[1] == NULL)
                return slow_process(self, prim, targs, params);
        }
        else if (ta) {
            vals[0] = SLOT(a, o_primal), vals[1] = b;
            pa = SLOT(a, o_idx);
            which = which0;
        }
        else if (tb) {
            vals[0] = a, vals[1] = SLOT(b, o_primal);
            pa = SLOT(b, o_idx);
            which = which1;
            if (vals[1] == NULL)
                return slow_process(self, prim, targs, params);
        }
        else
            return slow_process(self, prim, targs, params);
    }
    if (pa == NULL || vals[0] == NULL)
        return slow_process(self, prim, targs, params);

    /* The record's tuples first: they hold the values while Python code runs (the impl), in
     * which nothing borrowed from the tracers' slots may be relied on. */
    PyObject *parents = pb ? PyTuple_Pack(2, pa, pb) : PyTuple_Pack(1, pa);
    PyObject *valtuple = parents ? PyTuple_New(n) : NULL;
    if (valtuple == NULL) {
        Py_XDECREF(parents);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++)
        PyTuple_SET_ITEM(valtuple, k, Py_NewRef(vals[k]));
    int nondiff = 0;
    PyObject *rec = NULL, *tracer = NULL, *idx = NULL, *ans = NULL;
    if (elide >= 0 && n == 2)
        ans = elided(self, prim, ufunc, which, valtuple, elide);
    if (ans == NULL && !PyErr_Occurred())
        ans = primal_out(prim, ((PyTupleObject *)valtuple)->ob_item, n, params, &nondiff);
    if (ans == NULL || nondiff) {
        Py_DECREF(parents);
        Py_DECREF(valtuple);
        return ans;
    }
    tape = SLOT(self, o_tape);
    if (tape == NULL || !PyList_CheckExact(tape)) {
        PyErr_SetString(PyExc_RuntimeError, "the reverse trace closed during an operation");
        goto done;
    }

    PyObject *keep = SLOT(prim, o_keep);
    int prune = 0;
    if (keep != NULL && keep != Py_None) {
        int kept_all = PyObject_IsTrue(SLOT(self, o_keepflag));
        if (kept_all < 0)
            goto done;
        if (!kept_all) {
            prune = is_big(ans);
            if (prune == 0)
                prune = is_big(PyTuple_GET_ITEM(valtuple, 0));
            if (prune < 0)
                goto done;
        }
    }
    if (prune) {
        PyObject *kv = PyObject_CallFunctionObjArgs(keep, which, ans, valtuple, NULL);
        if (kv == NULL)
            goto done;
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
            PyErr_Format(PyExc_TypeError, "%R's keep rule must return (ans, vals)", prim);
            Py_DECREF(kv);
            goto done;
        }
        rec = PyTuple_Pack(6, prim, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1), parents,
                           which, params);
        Py_DECREF(kv);
    }
    else
        rec = PyTuple_Pack(6, prim, ans, valtuple, parents, which, params);
    if (rec == NULL)
        goto done;
    idx = PyLong_FromSsize_t(PyList_GET_SIZE(tape));
    if (idx == NULL || PyList_Append(tape, rec) < 0)
        goto done;
    /* VJPTracer(self, ans, idx) without its __init__: the slots set here are the ones it sets. */
    tracer = VJPTracer_T->tp_alloc(VJPTracer_T, 0);
    if (tracer == NULL)
        goto done;
    SLOT(tracer, o_trace) = Py_NewRef(self);
    SLOT(tracer, o_primal) = Py_NewRef(ans);
    SLOT(tracer, o_idx) = Py_NewRef(idx);
done:
    Py_XDECREF(idx);
    Py_XDECREF(rec);
    Py_XDECREF(valtuple);
    Py_XDECREF(parents);
    Py_DECREF(ans);
    return tracer;
}

/* reverse.Negated and reverse.negated, read from its module dict (borrowed; NULL with an
 * error if missing). */
static PyObject *
reverse_name(const char *name)
{
    PyObject *v = PyDict_GetItemString(globals, name);
    if (v == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_RuntimeError, "reverse.%s is missing", name);
    return v;
}

/* Replace list[i] (a valid index) with a new reference to v. */
static inline void
list_put(PyObject *list, Py_ssize_t i, PyObject *v)
{
    PyObject *old = PyList_GET_ITEM(list, i);
    PyList_SET_ITEM(list, i, Py_NewRef(v));
    Py_DECREF(old);
}

/* Whether ndarrays a and b have equal shapes, and dtypes that compare equal (a == b):
 * -1 on error. */
static int
same_layout(PyObject *a, PyObject *b)
{
    PyArrayObject *x = (PyArrayObject *)a, *y = (PyArrayObject *)b;
    int nd = PyArray_NDIM(x);
    if (nd != PyArray_NDIM(y) ||
        (nd && memcmp(PyArray_DIMS(x), PyArray_DIMS(y), nd * sizeof(npy_intp))))
        return 0;
    PyObject *dx = (PyObject *)PyArray_DESCR(x), *dy = (PyObject *)PyArray_DESCR(y);
    return dx == dy ? 1 : PyObject_RichCompareBool(dx, dy, Py_EQ);
}

/* reverse._add(ct, owned, p, c) where ct[p] already holds a value: in place into an
 * accumulator this pass owns, else a new sum that it then owns. Sparse cotangents, on either
 * side, are the Python version's. */
static int
accumulate(PyObject *ct, PyObject *owned, PyObject *p, Py_ssize_t pi, PyObject *c)
{
    PyObject *old = PyList_GET_ITEM(ct, pi);
    int sparse = PySet_Contains(sparse_types, (PyObject *)Py_TYPE(old));
    if (sparse == 0)
        sparse = PySet_Contains(sparse_types, (PyObject *)Py_TYPE(c));
    if (sparse != 0 || pi >= PyList_GET_SIZE(owned)) {
        if (sparse < 0)
            return -1;
        PyObject *addargs[4] = {ct, owned, p, c};
        PyObject *r = PyObject_Vectorcall(py_add, addargs, 4, NULL);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    PyObject *sum;
    Py_INCREF(old);  /* borrowed from ct, and the sum may run Python code (traced values) */
    if (PyList_GET_ITEM(owned, pi) == Py_True && Py_IS_TYPE(old, ndarray_T) &&
        Py_IS_TYPE(c, ndarray_T)) {
        int same = same_layout(old, c);
        sum = same < 0 ? NULL : same ? PyNumber_InPlaceAdd(old, c) : PyNumber_Add(old, c);
    }
    else
        sum = PyNumber_Add(old, c);
    Py_DECREF(old);
    if (sum == NULL || pi >= PyList_GET_SIZE(ct) || pi >= PyList_GET_SIZE(owned)) {
        if (sum != NULL)
            PyErr_SetString(PyExc_RuntimeError, "the cotangents changed size");
        Py_XDECREF(sum);
        return -1;
    }
    list_put(ct, pi, sum);
    Py_DECREF(sum);
    list_put(owned, pi, Py_True);
    return 0;
}

/* Rules run Python code: the loop never indexes lists that something may have resized. */
static int
resized(PyObject *tape, PyObject *ct, PyObject *record, Py_ssize_t size)
{
    if (PyList_GET_SIZE(tape) == size && PyList_GET_SIZE(ct) == size &&
        (record == Py_None || PyList_GET_SIZE(record) == size))
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "the tape changed size during the backward pass");
    return 1;
}

/* Donation: the differentiated argument's value of a record that only the backward pass
 * holds, asked for that one cotangent, is dead once the rule has read it; a product that is
 * the rule's last use of it may be written into it instead of a new array (A = v * (2 g) in
 * Rosenbrock's backward pass, where v is x[:-1] - 1's value). While such a rule runs,
 * dead_vals is the record's values tuple and dead_pos the argument's position (per thread:
 * rules release the GIL). donated(v) is called by the one rule step that may write (the split
 * product of _family.py's partial rules): v must be that value, an array owning its writeable
 * memory with no weak reference, held by exactly the references that step's frames hold plus
 * the tuple's, a count learnt at import on one record known to be dead
 * (_residuals.learn_donation). */
static _Thread_local PyObject *dead_vals;
static _Thread_local Py_ssize_t dead_pos;
static Py_ssize_t donation_refs = -1;
static int donation_learning;

static PyObject *
donated(PyObject *module, PyObject *v)
{
    if (dead_vals == NULL || dead_pos < 0 || dead_pos >= PyTuple_GET_SIZE(dead_vals) ||
        PyTuple_GET_ITEM(dead_vals, dead_pos) != v || !Py_IS_TYPE(v, ndarray_T))
        Py_RETURN_FALSE;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(dead_vals); k++)
        if (k != dead_pos && PyTuple_GET_ITEM(dead_vals, k) == v)
            Py_RETURN_FALSE;  /* x * x: the other operand is the same value */
    PyArrayObject *a = (PyArrayObject *)v;
    /* a weak reference (a cache's) would outlive the rule and see the product */
    if (PyArray_BASE(a) != NULL || ((PyArrayObject_fields *)a)->weakreflist != NULL ||
        !PyArray_CHKFLAGS(a, NPY_ARRAY_OWNDATA | NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED))
        Py_RETURN_FALSE;
    if (donation_learning) {
        donation_refs = Py_REFCNT(v);
        Py_RETURN_FALSE;
    }
    return PyBool_FromLong(Py_REFCNT(v) == donation_refs);
}

static PyObject *
donation_learn(PyObject *module, PyObject *on)
{
    int v = PyObject_IsTrue(on);
    if (v < 0)
        return NULL;
    donation_learning = v;
    if (v)
        donation_refs = -1;
    return PyLong_FromSsize_t(donation_refs);
}

/* The backward loop: see reverse.backward, which sets up ``ct`` and ``owned`` and calls this
 * as backward_loop(tape, ct, owned, start, stop, free, record, check). */
static PyObject *
backward_loop(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "backward_loop(tape, ct, owned, start, stop, free, record, check)");
        return NULL;
    }
    PyObject *tape = args[0], *ct = args[1], *owned = args[2];
    PyObject *record = args[6], *check = args[7];
    Py_ssize_t start = PyLong_AsSsize_t(args[3]), stop = PyLong_AsSsize_t(args[4]);
    if (PyErr_Occurred())
        return NULL;
    int free = PyObject_IsTrue(args[5]);
    if (free < 0)
        return NULL;
    Py_ssize_t size = PyList_Check(tape) ? PyList_GET_SIZE(tape) : -1;
    if (size < 0 || !PyList_Check(ct) || PyList_GET_SIZE(ct) != size || !PyList_Check(owned) ||
        (record != Py_None && (!PyList_Check(record) || PyList_GET_SIZE(record) != size)) ||
        start >= size || stop < 0) {
        PyErr_SetString(PyExc_ValueError, "backward_loop: inconsistent tape, cotangents or range");
        return NULL;
    }
    PyObject *stack[3 + 8];
    for (Py_ssize_t i = start; i >= stop; i--) {
        if (resized(tape, ct, record, size))
            return NULL;
        PyObject *g = PyList_GET_ITEM(ct, i);
        if (g == Py_None) {
            if (free)
                list_put(tape, i, Py_None);
            continue;
        }
        Py_INCREF(g);
        list_put(ct, i, Py_None);
        PyObject *rec = Py_NewRef(PyList_GET_ITEM(tape, i));
        PyObject *cts = NULL, *fast = NULL, *vjp = NULL;
        int negate = 0;
        if (!PyTuple_Check(rec) || PyTuple_GET_SIZE(rec) != 6) {
            PyErr_Format(PyExc_TypeError, "tape record %zd is not a 6-tuple: %R", i, rec);
            goto fail;
        }
        PyObject *prim = PyTuple_GET_ITEM(rec, 0), *vals = PyTuple_GET_ITEM(rec, 2);
        if (!Py_IS_TYPE(g, ndarray_T) && !PyFloat_CheckExact(g)) {
            int sparse = PySet_Contains(sparse_types, (PyObject *)Py_TYPE(g));
            if (sparse < 0)
                goto fail;
            if (sparse) {
                /* -g unexpanded (reverse.Negated): a rule that takes it gets it, another one
                 * gets g and its results are negated; the adjoint trace and debug_nans see
                 * values. */
                PyObject *neg = reverse_name("Negated");
                if (neg == NULL)
                    goto fail;
                int takes = 0;
                PyObject *inner = (PyObject *)Py_TYPE(g) == neg ? PyObject_GetAttrString(g, "g")
                                                                : NULL;
                if (inner == NULL && PyErr_Occurred())
                    goto fail;
                int lazy = inner != NULL && Py_IS_TYPE(inner, ndarray_T);  /* rules see arrays */
                if (lazy && record == Py_None && check == Py_None) {
                    PyObject *t = PyObject_GetAttrString(prim, "takes_negated");
                    if (t == NULL) {
                        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                            Py_DECREF(inner);
                            goto fail;
                        }
                        PyErr_Clear();
                    }
                    else {
                        takes = PyObject_IsTrue(t);
                        Py_DECREF(t);
                        if (takes < 0) {
                            Py_DECREF(inner);
                            goto fail;
                        }
                    }
                    if (!takes) {
                        Py_SETREF(g, inner);
                        inner = NULL;
                        negate = 1;
                    }
                    Py_XDECREF(inner);
                }
                else {
                    Py_XDECREF(inner);
                    Py_SETREF(g, PyObject_CallMethodNoArgs(g, s_materialize));
                }
                if (g == NULL) {
                    Py_DECREF(rec);
                    return NULL;
                }
            }
        }
        if (record != Py_None)
            list_put(record, i, g);
        if (free)
            list_put(tape, i, Py_None);
        PyObject *params = PyTuple_GET_ITEM(rec, 5);
        vjp = Py_IS_TYPE(prim, Primitive_T) ? Py_XNewRef(SLOT(prim, o_vjp))
                                            : PyObject_GetAttr(prim, s_vjp);
        if (vjp == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_AttributeError, "%R has no vjp", prim);
            goto fail;
        }
        PyObject *kw = PyDict_Check(params) && PyDict_GET_SIZE(params) ? params : NULL;
        if (PyTuple_CheckExact(vals) && PyTuple_GET_SIZE(vals) <= 8) {
            Py_ssize_t nv = PyTuple_GET_SIZE(vals);
            stack[0] = g, stack[1] = PyTuple_GET_ITEM(rec, 1), stack[2] = PyTuple_GET_ITEM(rec, 4);
            for (Py_ssize_t k = 0; k < nv; k++)
                stack[3 + k] = PyTuple_GET_ITEM(vals, k);
            /* A record this pass holds alone, asked for one cotangent: the differentiated
             * argument's value dies with the rule, which may write into it (donated). */
            PyObject *which = PyTuple_GET_ITEM(rec, 4), *outer = dead_vals;
            Py_ssize_t outer_pos = dead_pos;
            dead_vals = NULL;
            if (free && record == Py_None && check == Py_None && Py_REFCNT(rec) == 1 &&
                Py_REFCNT(vals) == 1 && PyTuple_CheckExact(which) &&
                PyTuple_GET_SIZE(which) == 1 && PyLong_CheckExact(PyTuple_GET_ITEM(which, 0))) {
                dead_pos = PyLong_AsSsize_t(PyTuple_GET_ITEM(which, 0));
                if (dead_pos == -1 && PyErr_Occurred())
                    PyErr_Clear();
                else
                    dead_vals = vals;
            }
            cts = PyObject_VectorcallDict(vjp, stack, 3 + nv, kw);
            dead_vals = outer, dead_pos = outer_pos;
        }
        else {  /* many arguments, or a list: the generic call, which donates nothing */
            PyObject *head = PyTuple_Pack(3, g, PyTuple_GET_ITEM(rec, 1), PyTuple_GET_ITEM(rec, 4));
            PyObject *rest = head ? PySequence_Tuple(vals) : NULL;
            PyObject *all = rest ? PySequence_Concat(head, rest) : NULL;
            Py_XDECREF(head);
            Py_XDECREF(rest);
            if (all == NULL)
                goto fail;
            PyObject *outer = dead_vals;
            dead_vals = NULL;
            cts = PyObject_Call(vjp, all, kw);
            dead_vals = outer;
            Py_DECREF(all);
        }
        if (cts == NULL)
            goto fail;
        if (negate) {  /* [negated(c) for c in cts], None kept */
            PyObject *f = reverse_name("negated");
            PyObject *seq = f ? PySequence_Fast(cts, "a VJP rule must return a sequence") : NULL;
            PyObject *out = seq ? PyList_New(PySequence_Fast_GET_SIZE(seq)) : NULL;
            for (Py_ssize_t k = 0; out && k < PySequence_Fast_GET_SIZE(seq); k++) {
                PyObject *c = PySequence_Fast_GET_ITEM(seq, k);
                PyObject *nc = c == Py_None ? Py_NewRef(c) : PyObject_CallOneArg(f, c);
                if (nc == NULL)
                    Py_CLEAR(out);
                else
                    PyList_SET_ITEM(out, k, nc);
            }
            Py_XDECREF(seq);
            Py_SETREF(cts, out);
            if (cts == NULL)
                goto fail;
        }
        if (check != Py_None) {
            PyObject *pos = PyLong_FromSsize_t(i);
            PyObject *r = pos ? PyObject_CallFunctionObjArgs(check, prim, pos, cts, NULL) : NULL;
            Py_XDECREF(pos);
            if (r == NULL)
                goto fail;
            Py_DECREF(r);
        }
        if (resized(tape, ct, record, size))
            goto fail;
        PyObject *parents_t = PySequence_Tuple(PyTuple_GET_ITEM(rec, 3));
        fast = parents_t ? PySequence_Fast(cts, "a VJP rule must return a sequence") : NULL;
        if (fast == NULL) {
            Py_XDECREF(parents_t);
            goto fail;
        }
        Py_ssize_t m = PyTuple_GET_SIZE(parents_t);
        if (PySequence_Fast_GET_SIZE(fast) < m)
            m = PySequence_Fast_GET_SIZE(fast);
        for (Py_ssize_t k = 0; k < m; k++) {
            PyObject *c = PySequence_Fast_GET_ITEM(fast, k);
            if (c == Py_None)
                continue;
            PyObject *p = PyTuple_GET_ITEM(parents_t, k);
            Py_ssize_t pi = PyLong_AsSsize_t(p);
            if (pi == -1 && PyErr_Occurred()) {
                Py_DECREF(parents_t);
                goto fail;
            }
            if (pi < 0 || pi >= size) {
                PyErr_Format(PyExc_IndexError, "tape record %zd names parent %zd", i, pi);
                Py_DECREF(parents_t);
                goto fail;
            }
            if (PyList_GET_ITEM(ct, pi) == Py_None)
                list_put(ct, pi, c);
            else if (accumulate(ct, owned, p, pi, c) < 0) {
                Py_DECREF(parents_t);
                goto fail;
            }
        }
        Py_DECREF(parents_t);
        Py_DECREF(fast);
        Py_DECREF(cts);
        Py_DECREF(vjp);
        Py_DECREF(rec);
        Py_DECREF(g);
        continue;
    fail:
        Py_XDECREF(fast);
        Py_XDECREF(cts);
        Py_XDECREF(vjp);
        Py_DECREF(rec);
        Py_DECREF(g);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- The tracer side: NumPy's ufunc protocol and Python's binary operators ----------- */

static PyObject *ufunc_rules, *no_params, *py_array_ufunc, *s_process, *s___call__, *s_hasobject;
static Py_ssize_t o_ttrace, o_level;

/* Whether ``x`` is an operand the rule layer must coerce first (a list, a tuple, an object
 * array: the Python versions' _has_objects / _has_sequences): -1 on error. */
static int
needs_coercion(PyObject *x)
{
    if (PyList_CheckExact(x) || PyTuple_CheckExact(x))
        return 1;
    if (!Py_IS_TYPE(x, ndarray_T))
        return 0;
    int t = PyArray_DESCR((PyArrayObject *)x)->type_num;
    if (t == NPY_OBJECT)
        return 1;
    if (t != NPY_VOID)  /* only object and structured dtypes can hold objects */
        return 0;
    PyObject *dtype = PyObject_GetAttr(x, s_dtype);
    if (dtype == NULL)
        return -1;
    PyObject *h = PyObject_GetAttr(dtype, s_hasobject);
    Py_DECREF(dtype);
    if (h == NULL)
        return -1;
    int r = PyObject_IsTrue(h);
    Py_DECREF(h);
    return r;
}

static PyObject *
call_process(PyObject *trace, PyObject *prim, PyObject *args, PyObject *params)
{
    Py_INCREF(trace);  /* callers read it from a tracer's slot: hold it while Python runs */
    PyObject *stack[4] = {trace, prim, args, params};
    PyObject *r = PyObject_VectorcallMethod(s_process, stack, 4, NULL);
    Py_DECREF(trace);
    return r;
}

/* Primitive.bind(*args, **params) (``params`` a dict, ``no_params`` for none): the trace of
 * highest level processes the operation; with none, the impl computes it. ``tuple`` may hold
 * ``args`` already. */
static PyObject *
bind(PyObject *prim, PyObject *const *args, Py_ssize_t n, PyObject *tuple, PyObject *params)
{
    PyObject *top = NULL;
    long level = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyObject_TypeCheck(args[k], Tracer_T))
            continue;
        PyObject *t = SLOT(args[k], o_ttrace);
        PyObject *lv = t ? SLOT(t, o_level) : NULL;
        if (lv == NULL) {
            PyErr_SetString(PyExc_AttributeError, "a traced value without a trace level");
            return NULL;
        }
        long v = PyLong_AsLong(lv);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v > level)
            top = t, level = v;
    }
    int kw = PyDict_GET_SIZE(params) != 0;
    if (top == NULL) {
        /* the impl slot, or an impl a subclass defines otherwise */
        PyObject *impl = Py_IS_TYPE(prim, Primitive_T) ? Py_XNewRef(SLOT(prim, o_impl)) : NULL;
        if (impl == NULL && (impl = PyObject_GetAttrString(prim, "impl")) == NULL)
            return NULL;
        PyObject *r = PyObject_VectorcallDict(impl, args, n, kw ? params : NULL);
        Py_DECREF(impl);
        return r;
    }
    /* the inner record gets its own params, as Python's ** gives bind a new dict */
    PyObject *own = kw ? PyDict_Copy(params) : Py_NewRef(no_params), *r = NULL;
    if (own == NULL)
        return NULL;
    if (tuple != NULL)
        r = call_process(top, prim, tuple, own);
    else if ((tuple = PyTuple_New(n)) != NULL) {
        for (Py_ssize_t k = 0; k < n; k++)
            PyTuple_SET_ITEM(tuple, k, Py_NewRef(args[k]));
        r = call_process(top, prim, tuple, own);
        Py_DECREF(tuple);
    }
    Py_DECREF(own);
    return r;
}

/* Tracer.__array_ufunc__(ufunc, method, *inputs, **kwargs): a plain call of a ufunc with a
 * rule, on operands that need no coercion and with no keyword arguments, binds its primitive
 * here; everything else (methods, out=, dtype=, object arrays...) is the Python version's. */
static PyObject *
array_ufunc(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nkw == 0 && nargs >= 3 && nargs <= 5 &&
        (args[1] == s___call__ || (PyUnicode_Check(args[1]) &&
                                   PyUnicode_Compare(args[1], s___call__) == 0))) {
        PyObject *prim = PyDict_GetItemWithError(ufunc_rules, args[0]);
        if (prim == NULL && PyErr_Occurred())
            return NULL;
        if (prim != NULL && Py_IS_TYPE(prim, Primitive_T)) {
            Py_ssize_t n = nargs - 2;
            if (n == 1 && args[2] == self) {
                PyObject *tuple = PyTuple_Pack(1, self);
                if (tuple == NULL)
                    return NULL;
                PyObject *r = call_process(SLOT(self, o_ttrace), prim, tuple, no_params);
                Py_DECREF(tuple);
                return r;
            }
            int plain = 1;
            for (Py_ssize_t k = 2; k < nargs && plain; k++) {
                int c = needs_coercion(args[k]);
                if (c < 0)
                    return NULL;
                plain = !c;
            }
            if (plain)
                return bind(prim, args + 2, n, NULL, no_params);
        }
    }
    /* The Python version, called as a method: self first. */
    PyObject *small[16], **stack = small;
    Py_ssize_t total = nargs + nkw;
    if (total + 1 > 16) {
        stack = PyMem_Malloc((total + 1) * sizeof(PyObject *));
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = self;
    for (Py_ssize_t k = 0; k < total; k++)
        stack[k + 1] = args[k];
    PyObject *r = PyObject_Vectorcall(py_array_ufunc, stack, nargs + 1, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    return r;
}

static PyMethodDef array_ufunc_def = {
    "__array_ufunc__", (PyCFunction)(void (*)(void))array_ufunc, METH_FASTCALL | METH_KEYWORDS,
    "NumPy's ufunc protocol (NEP 13) for traced values (C version)."};

/* A binary operator of Tracer (``__mul__``, ``__rsub__``...): ``BinaryMethod(prim, swap,
 * fallback)``. Like a function in a class, it is called with the tracer first; the common
 * operands (a tracer of the same trace, a number, a numeric array) go straight to the
 * trace's process, the others to ``fallback(self, other)``, the Python version. */
typedef struct {
    PyObject_HEAD
    PyObject *prim, *fallback;
    PyObject *ufunc, *impl; /* for temporary elision: the ufunc computing prim's impl (NULL) */
    int swap;
    vectorcallfunc vectorcall;
} BinaryMethod;

static PyObject *
binary_method_call(BinaryMethod *m, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 2 || (kwnames && PyTuple_GET_SIZE(kwnames)) ||
        !PyObject_TypeCheck(args[0], Tracer_T))
        return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    PyObject *self = args[0], *other = args[1], *trace = SLOT(self, o_ttrace);
    if (trace == NULL)
        return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    if (PyObject_TypeCheck(other, Tracer_T)) {
        if (SLOT(other, o_ttrace) != trace)  /* another trace: bind finds the top one */
            return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    }
    else {
        int c = needs_coercion(other);
        if (c != 0)
            return c < 0 ? NULL : PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    }
    /* Before the tuple below adds a reference: whether an operand is a temporary. */
    int elide = -1;
    if (m->ufunc != NULL && Py_IS_TYPE(trace, VJPTrace_T) && Py_IS_TYPE(m->prim, Primitive_T) &&
        SLOT(m->prim, o_impl) == m->impl && (elide = elision_site(trace, self, other, m->swap)) < -1)
        return NULL;
    PyObject *tuple = m->swap ? PyTuple_Pack(2, other, self) : PyTuple_Pack(2, self, other);
    if (tuple == NULL)
        return NULL;
    PyObject *r;
    if (elide >= 0) {
        Py_INCREF(trace);
        r = vjp_record(trace, m->prim, tuple, no_params, elide, m->ufunc);
        Py_DECREF(trace);
    }
    else
        r = call_process(trace, m->prim, tuple, no_params);
    Py_DECREF(tuple);
    return r;
}

static PyObject *
binary_method_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *prim, *fallback, *ufunc = Py_None;
    int swap;
    if (!PyArg_ParseTuple(args, "OpO|O:BinaryMethod", &prim, &swap, &fallback, &ufunc))
        return NULL;
    if (Tracer_T == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "init_tracer must be called first");
        return NULL;
    }
    BinaryMethod *m = (BinaryMethod *)type->tp_alloc(type, 0);
    if (m == NULL)
        return NULL;
    m->prim = Py_NewRef(prim);
    m->fallback = Py_NewRef(fallback);
    if (ufunc != Py_None && Py_IS_TYPE(prim, Primitive_T) && SLOT(prim, o_impl) != NULL) {
        m->ufunc = Py_NewRef(ufunc);
        m->impl = Py_NewRef(SLOT(prim, o_impl));
    }
    m->swap = swap;
    m->vectorcall = (vectorcallfunc)binary_method_call;
    return (PyObject *)m;
}

static void
binary_method_dealloc(BinaryMethod *m)
{
    Py_XDECREF(m->prim);
    Py_XDECREF(m->fallback);
    Py_XDECREF(m->ufunc);
    Py_XDECREF(m->impl);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static PyObject *
binary_method_get(PyObject *m, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(m);
    return PyMethod_New(m, obj);
}

static PyObject *
binary_method_repr(BinaryMethod *m)
{
    return PyUnicode_FromFormat("<BinaryMethod %R%s>", m->prim, m->swap ? " (reflected)" : "");
}

static PyTypeObject BinaryMethod_T = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wengert.core._speedups.BinaryMethod",
    .tp_basicsize = sizeof(BinaryMethod),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_vectorcall_offset = offsetof(BinaryMethod, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = binary_method_get,
    .tp_new = binary_method_new,
    .tp_dealloc = (destructor)binary_method_dealloc,
    .tp_repr = (reprfunc)binary_method_repr,
    .tp_doc = "BinaryMethod(prim, swap, fallback, ufunc=None): a Tracer operator in C; with the "
              "ufunc that computes prim's impl, it may write into a temporary operand's array.",
};

/* Primitive.bind(*args, **params): see the Python version in primitive.py. */
static PyObject *
prim_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t n = PyVectorcall_NARGS(nargsf), nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (!nkw)
        return bind(self, args, n, NULL, no_params);
    PyObject *params = PyDict_New();
    for (Py_ssize_t k = 0; params && k < nkw; k++)
        if (PyDict_SetItem(params, PyTuple_GET_ITEM(kwnames, k), args[n + k]) < 0)
            Py_CLEAR(params);
    if (params == NULL)
        return NULL;
    PyObject *r = bind(self, args, n, NULL, params);
    Py_DECREF(params);
    return r;
}

static PyMethodDef bind_def = {
    "bind", (PyCFunction)(void (*)(void))prim_bind, METH_FASTCALL | METH_KEYWORDS,
    "bind(*args, **params): the trace of highest level among the arguments processes the "
    "operation; with none, the impl computes it (C version)."};

/* init_tracer(Tracer, Trace, Primitive, ndarray, ufunc_rules, no_params, py_array_ufunc) ->
 * the method descriptors to install as Tracer.__array_ufunc__ and Primitive.bind. */
static PyObject *
init_tracer(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7 || !PyType_Check(args[0]) || !PyType_Check(args[1]) ||
        !PyType_Check(args[2]) || !PyType_Check(args[3]) || !PyDict_Check(args[4]) ||
        !PyDict_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError, "init_tracer(Tracer, Trace, Primitive, ndarray, "
                                         "ufunc_rules, no_params, py_array_ufunc)");
        return NULL;
    }
    if (slot_offset(args[0], "_trace", &o_ttrace) || slot_offset(args[1], "level", &o_level) ||
        slot_offset(args[2], "impl", &o_impl))
        return NULL;
    Py_XSETREF(Tracer_T, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(Primitive_T, (PyTypeObject *)Py_NewRef(args[2]));
    Py_XSETREF(ndarray_T, (PyTypeObject *)Py_NewRef(args[3]));
    Py_XSETREF(ufunc_rules, Py_NewRef(args[4]));
    Py_XSETREF(no_params, Py_NewRef(args[5]));
    Py_XSETREF(py_array_ufunc, Py_NewRef(args[6]));
    PyObject *bind_descr = PyDescr_NewMethod(Primitive_T, &bind_def);
    PyObject *ufunc_descr = bind_descr ? PyDescr_NewMethod((PyTypeObject *)args[0], &array_ufunc_def)
                                       : NULL;
    PyObject *r = ufunc_descr ? PyTuple_Pack(2, ufunc_descr, bind_descr) : NULL;
    Py_XDECREF(bind_descr);
    Py_XDECREF(ufunc_descr);
    return r;
}

/* ---- The elementwise family's VJP rules (numpy/_family.py) ------------------------------
 *
 * The rule layer's generic VJPs of elementwise ops, from their partial derivatives, for the
 * common cases; ``fallback`` is the Python rule, called for every other case. The partials
 * themselves stay Python (a rule never lives here). Modes:
 *   UNARY    call(g, ans, which, x) -> (g * d(x, ans),)
 *   PARTIAL  call(g, x, y, ans) -> the cotangent of argument k: g times the partial d(x, y,
 *            ans), or a constant +-1 (d NULL), fitted to the argument's shape
 *   BINARY   call(g, ans, which, x, y) -> the partials' cotangents of the arguments ``which``
 * A product with an array of BIG elements or more goes through ``scaled`` (which may write
 * in place); one that needs fitting (broadcast, dtype) through ``fit``. */

static PyObject *f_scaled, *f_fit, *scalar_types, *split_types, *family_globals, *s_BIG;

enum { UNARY, PARTIAL, BINARY };

typedef struct {
    PyObject_HEAD
    int mode, k, sign, split, symmetric;
    PyObject *d, *vx, *vy, *fallback;
    vectorcallfunc vectorcall;
} ElementwiseVJP;

static PyTypeObject ElementwiseVJP_T;

/* g * d, through ``scaled`` where d is an ndarray of BIG elements or more. */
static PyObject *
product(PyObject *g, PyObject *d)
{
    if (Py_IS_TYPE(d, ndarray_T)) {
        PyObject *big = PyDict_GetItemWithError(family_globals, s_BIG);
        if (big == NULL && PyErr_Occurred())
            return NULL;
        Py_ssize_t n = big ? PyLong_AsSsize_t(big) : PY_SSIZE_T_MAX;
        if (n == -1 && PyErr_Occurred())
            return NULL;
        if (PyArray_SIZE((PyArrayObject *)d) >= n) {
            PyObject *stack[2] = {g, d};
            return PyObject_Vectorcall(f_scaled, stack, 2, NULL);
        }
    }
    if (PyObject_TypeCheck(d, Tracer_T)) {
        /* A plain cotangent times a traced partial (hvp's backward): the tracer's own
         * reflected operator, as Python would pick it, without NumPy's ufunc dispatch. */
        binaryfunc mul = Py_TYPE(d)->tp_as_number ? Py_TYPE(d)->tp_as_number->nb_multiply : NULL;
        if (mul != NULL) {
            PyObject *r = mul(g, d);
            if (r != Py_NotImplemented)
                return r;
            Py_DECREF(r);
        }
    }
    return PyNumber_Multiply(g, d);
}

/* c as the cotangent of argument a (of output ans): itself when its type, shape and dtype
 * are a's already (nearly always), else fit(c, a, ans). Steals c. */
static PyObject *
fitted(PyObject *c, PyObject *a, PyObject *ans)
{
    PyTypeObject *tc = Py_TYPE(c);
    if (tc == Py_TYPE(a) && tc == Py_TYPE(ans)) {
        int ok = PySet_Contains(scalar_types, (PyObject *)tc);
        if (ok == 0 && PyType_IsSubtype(tc, Tracer_T)) {
            /* traced cotangents (forward over reverse): their shape and dtype properties */
            PyObject *sc = PyObject_GetAttr(c, s_shape), *sa = NULL, *sn = NULL;
            PyObject *dc = NULL, *da = NULL;
            if (sc && (sa = PyObject_GetAttr(a, s_shape)) && (sn = PyObject_GetAttr(ans, s_shape)) &&
                (dc = PyObject_GetAttr(c, s_dtype)) && (da = PyObject_GetAttr(a, s_dtype))) {
                ok = PyObject_RichCompareBool(sc, sa, Py_EQ);
                if (ok == 1)
                    ok = PyObject_RichCompareBool(sa, sn, Py_EQ);
                if (ok == 1)
                    ok = dc == da;
            }
            else
                ok = -1;
            Py_XDECREF(sc), Py_XDECREF(sa), Py_XDECREF(sn), Py_XDECREF(dc), Py_XDECREF(da);
        }
        else if (ok == 0 && tc == ndarray_T) {
            PyArrayObject *x = (PyArrayObject *)c, *y = (PyArrayObject *)a;
            PyArrayObject *z = (PyArrayObject *)ans;
            int nd = PyArray_NDIM(x);
            ok = nd == PyArray_NDIM(y) && nd == PyArray_NDIM(z) &&
                 PyArray_DESCR(x) == PyArray_DESCR(y) &&
                 (nd == 0 || (!memcmp(PyArray_DIMS(x), PyArray_DIMS(y), nd * sizeof(npy_intp)) &&
                              !memcmp(PyArray_DIMS(y), PyArray_DIMS(z), nd * sizeof(npy_intp))));
        }
        if (ok != 0) {
            if (ok < 0)
                Py_CLEAR(c);
            return c;
        }
    }
    PyObject *stack[3] = {c, a, ans};
    PyObject *r = PyObject_Vectorcall(f_fit, stack, 3, NULL);
    Py_DECREF(c);
    return r;
}

static PyObject *
partial_call(ElementwiseVJP *m, PyObject *const *args)
{
    PyObject *g = args[0], *x = args[1], *y = args[2], *ans = args[3], *c;
    if (m->d == NULL) {
        c = fitted(Py_NewRef(g), m->k ? y : x, ans);
        if (c == NULL || m->sign > 0)
            return c;
        /* subtraction's -g: unexpanded where that saves a pass (reverse.negated) */
        PyObject *f = reverse_name("negated");
        PyObject *r = f ? PyObject_CallOneArg(f, c) : NULL;
        Py_DECREF(c);
        return r;
    }
    else {
        if (m->split) {
            int folds = PySet_Contains(split_types, (PyObject *)Py_TYPE(g));
            if (folds != 0)
                return folds < 0 ? NULL : PyObject_Vectorcall(m->fallback, args, 4, NULL);
        }
        PyObject *dv = PyObject_Vectorcall(m->d, args + 1, 3, NULL);
        if (dv == NULL)
            return NULL;
        c = product(g, dv);
        Py_DECREF(dv);
    }
    if (c == NULL)
        return NULL;
    return fitted(c, m->k ? y : x, ans);
}

static PyObject *
elementwise_vjp_call(ElementwiseVJP *m, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames && PyTuple_GET_SIZE(kwnames))
        return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    if (nargs > 0 && !Py_IS_TYPE(args[0], ndarray_T) && !PyFloat_CheckExact(args[0])) {
        /* a Negated cotangent (reverse.py): the Python rules fold it */
        int sparse = PySet_Contains(sparse_types, (PyObject *)Py_TYPE(args[0]));
        if (sparse != 0)
            return sparse < 0 ? NULL : PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    }
    if (m->mode == PARTIAL && nargs == 4)
        return partial_call(m, args);
    if (m->mode == UNARY && nargs == 4) {
        PyObject *stack[2] = {args[3], args[1]};  /* d(x, ans) */
        PyObject *dv = PyObject_Vectorcall(m->d, stack, 2, NULL);
        if (dv == NULL)
            return NULL;
        PyObject *c = product(args[0], dv);
        Py_DECREF(dv);
        if (c == NULL)
            return NULL;
        PyObject *r = PyTuple_Pack(1, c);
        Py_DECREF(c);
        return r;
    }
    if (m->mode == BINARY && nargs == 5 && PyTuple_CheckExact(args[2])) {
        /* (g, ans, which, x, y): the partials take (g, x, y, ans) */
        PyObject *stack[4] = {args[0], args[3], args[4], args[1]};
        PyObject *which = args[2];
        Py_ssize_t n = PyTuple_GET_SIZE(which);
        if (n == 2) {
            PyObject *cx = PyObject_Vectorcall(m->vx, stack, 4, NULL);
            /* x * x: one product, shared (the backward pass never writes into a rule's
             * result) */
            PyObject *cy = cx == NULL ? NULL
                           : m->symmetric && args[3] == args[4]
                               ? Py_NewRef(cx)
                               : PyObject_Vectorcall(m->vy, stack, 4, NULL);
            PyObject *r = cy ? PyTuple_Pack(2, cx, cy) : NULL;
            Py_XDECREF(cx);
            Py_XDECREF(cy);
            return r;
        }
        if (n == 1) {
            int second = PyObject_IsTrue(PyTuple_GET_ITEM(which, 0));
            if (second < 0)
                return NULL;
            PyObject *c = PyObject_Vectorcall(second ? m->vy : m->vx, stack, 4, NULL);
            if (c == NULL)
                return NULL;
            PyObject *r = PyTuple_Pack(1, c);
            Py_DECREF(c);
            return r;
        }
    }
    return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
}

static PyObject *
elementwise_vjp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"mode", "fallback", "d", "k", "sign", "split", "vx", "vy",
                            "symmetric", NULL};
    int mode, k = 0, sign = 1, split = 0, symmetric = 0;
    PyObject *fallback, *d = Py_None, *vx = Py_None, *vy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO|OiipOOp:ElementwiseVJP", names, &mode,
                                     &fallback, &d, &k, &sign, &split, &vx, &vy, &symmetric))
        return NULL;
    if (f_scaled == NULL || ndarray_T == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "init_family and init_tracer must be called first");
        return NULL;
    }
    if (mode < UNARY || mode > BINARY || (mode == UNARY && d == Py_None) ||
        (mode == BINARY && (vx == Py_None || vy == Py_None)) || (sign != 1 && sign != -1)) {
        PyErr_SetString(PyExc_ValueError, "ElementwiseVJP: inconsistent arguments");
        return NULL;
    }
    ElementwiseVJP *m = (ElementwiseVJP *)type->tp_alloc(type, 0);
    if (m == NULL)
        return NULL;
    m->mode = mode, m->k = k, m->sign = sign, m->split = split, m->symmetric = symmetric;
    m->d = d == Py_None ? NULL : Py_NewRef(d);
    m->vx = Py_NewRef(vx);
    m->vy = Py_NewRef(vy);
    m->fallback = Py_NewRef(fallback);
    m->vectorcall = (vectorcallfunc)elementwise_vjp_call;
    return (PyObject *)m;
}

static void
elementwise_vjp_dealloc(ElementwiseVJP *m)
{
    Py_XDECREF(m->d);
    Py_XDECREF(m->vx);
    Py_XDECREF(m->vy);
    Py_XDECREF(m->fallback);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static PyObject *
elementwise_vjp_repr(ElementwiseVJP *m)
{
    return PyUnicode_FromFormat("<ElementwiseVJP of %R>", m->fallback);
}

static PyTypeObject ElementwiseVJP_T = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wengert.core._speedups.ElementwiseVJP",
    .tp_basicsize = sizeof(ElementwiseVJP),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(ElementwiseVJP, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = elementwise_vjp_new,
    .tp_dealloc = (destructor)elementwise_vjp_dealloc,
    .tp_repr = (reprfunc)elementwise_vjp_repr,
    .tp_doc = "ElementwiseVJP(mode, fallback, d=None, k=0, sign=1, split=False, vx=None, "
              "vy=None, symmetric=False): an elementwise family's VJP in C (see _family.py).",
};

/* init_family(scaled, fit, scalar_types, split_types, family_globals) */
static PyObject *
init_family(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyAnySet_Check(args[2]) || !PyAnySet_Check(args[3]) ||
        !PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "init_family(scaled, fit, scalar_types, split_types, family_globals)");
        return NULL;
    }
    Py_XSETREF(f_scaled, Py_NewRef(args[0]));
    Py_XSETREF(f_fit, Py_NewRef(args[1]));
    Py_XSETREF(scalar_types, Py_NewRef(args[2]));
    Py_XSETREF(split_types, Py_NewRef(args[3]));
    Py_XSETREF(family_globals, Py_NewRef(args[4]));
    Py_RETURN_NONE;
}

/* multiply's JVP, tx * y + ty * x (elementwise.py's _multiply_jvp, its reference), with a
 * None tangent a symbolic zero and x * x one product doubled: the hottest rule of forward
 * mode. */
static PyObject *
multiply_jvp(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *ts = nargs == 4 ? PySequence_Fast(args[0], "tangents must be a sequence") : NULL;
    if (ts == NULL || PySequence_Fast_GET_SIZE(ts) != 2) {
        if (ts != NULL || nargs != 4)
            PyErr_SetString(PyExc_TypeError, "multiply_jvp((tx, ty), ans, x, y)");
        Py_XDECREF(ts);
        return NULL;
    }
    PyObject *tx = PySequence_Fast_GET_ITEM(ts, 0), *ty = PySequence_Fast_GET_ITEM(ts, 1);
    PyObject *x = args[2], *y = args[3], *r;
    if (tx == Py_None)
        r = PyNumber_Multiply(ty, x);
    else if (ty == Py_None)
        r = PyNumber_Multiply(tx, y);
    else {
        PyObject *a = PyNumber_Multiply(tx, y);
        PyObject *b = a == NULL ? NULL : x == y && tx == ty ? Py_NewRef(a)
                                                            : PyNumber_Multiply(ty, x);
        r = b ? PyNumber_Add(a, b) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
    }
    Py_DECREF(ts);
    return r;
}

/* ---- Forward mode: JVPTrace.process (forward.py) ------------------------------------- */

static PyTypeObject *JVPTracer_T;
static PyObject *py_jvp_process, *f_shape, *f_dtype;
static Py_ssize_t oj_trace, oj_primal, oj_tangent, oj_shape, oj_dtype, oj_joint, o_jvp,
    o_joint_jvp;

#define jvp_slow(self, prim, args, params) call4(py_jvp_process, self, prim, args, params)

static PyObject *jvp_spelled_out(PyObject *self, PyObject *prim, PyObject *targs,
                                 PyObject *params, Py_ssize_t n, PyObject **vals, PyObject **tans);
static PyObject *new_jvp_tracer(PyObject *self, PyObject *ans, PyObject *t);

/* JVPTrace.process(prim, args, params): see the Python version in forward.py. */
static PyObject *
jvp_process(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int ok = spelled_out(args, nargs);
    if (ok <= 0)
        return ok < 0 ? NULL : jvp_slow(self, args[0], args[1], args[2]);
    PyObject *prim = args[0], *targs = args[1], *params = args[2];
    Py_ssize_t n = PyTuple_GET_SIZE(targs);
    PyObject *vals[2] = {NULL, NULL}, *tans[2] = {NULL, NULL};
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *a = PyTuple_GET_ITEM(targs, k);
        if (Py_IS_TYPE(a, JVPTracer_T) && SLOT(a, oj_trace) == self) {
            vals[k] = SLOT(a, oj_primal);
            tans[k] = SLOT(a, oj_tangent);
            if (vals[k] == NULL || tans[k] == NULL)
                return jvp_slow(self, prim, targs, params);
        }
        else if (n == 1)
            return jvp_slow(self, prim, targs, params);
        else
            vals[k] = a, tans[k] = Py_None;
    }
    /* Held while Python code runs (impl, rules): nothing borrowed from the tracers' slots
     * may be relied on then. */
    PyObject *held = n == 1 ? PyTuple_Pack(2, vals[0], tans[0])
                            : PyTuple_Pack(4, vals[0], tans[0], vals[1], tans[1]);
    if (held == NULL)
        return NULL;
    PyObject *r = jvp_spelled_out(self, prim, targs, params, n, vals, tans);
    Py_DECREF(held);
    return r;
}

static PyObject *
jvp_spelled_out(PyObject *self, PyObject *prim, PyObject *targs, PyObject *params, Py_ssize_t n,
                PyObject **vals, PyObject **tans)
{
    PyObject *kw = PyDict_GET_SIZE(params) ? params : NULL;
    /* A trace marked joint (hvp's) lets a primitive with a joint_jvp compute its output
     * and tangent together, from values that are not themselves traced. */
    PyObject *joint = SLOT(self, oj_joint), *jj = SLOT(prim, o_joint_jvp);
    if (n == 2 && joint == Py_True && jj != NULL && jj != Py_None &&
        !PyObject_TypeCheck(vals[0], Tracer_T) && !PyObject_TypeCheck(vals[1], Tracer_T)) {
        PyObject *ts = PyTuple_Pack(2, tans[0], tans[1]);
        if (ts == NULL)
            return NULL;
        PyObject *stack[3] = {ts, vals[0], vals[1]};
        PyObject *both = PyObject_VectorcallDict(jj, stack, 3, kw);
        Py_DECREF(ts);
        if (both == NULL)
            return NULL;
        if (both != Py_None) {
            PyObject *pair = PySequence_Fast(both, "joint_jvp must return (output, tangent)");
            Py_DECREF(both);
            if (pair == NULL || PySequence_Fast_GET_SIZE(pair) < 2) {
                if (pair != NULL)
                    PyErr_Format(PyExc_TypeError, "%R's joint_jvp must return (output, tangent)",
                                 prim);
                Py_XDECREF(pair);
                return NULL;
            }
            PyObject *r = new_jvp_tracer(self, Py_NewRef(PySequence_Fast_GET_ITEM(pair, 0)),
                                         Py_NewRef(PySequence_Fast_GET_ITEM(pair, 1)));
            Py_DECREF(pair);
            return r;
        }
        Py_DECREF(both);
    }
    int nondiff;
    PyObject *ans = primal_out(prim, vals, n, params, &nondiff);
    if (ans == NULL || nondiff)
        return ans;
    PyObject *ts = n == 1 ? PyTuple_Pack(1, tans[0]) : PyTuple_Pack(2, tans[0], tans[1]);
    if (ts == NULL) {
        Py_DECREF(ans);
        return NULL;
    }
    PyObject *stack[4] = {ts, ans, vals[0], n == 2 ? vals[1] : NULL};
    PyObject *jvp = SLOT(prim, o_jvp);
    PyObject *t = jvp ? PyObject_VectorcallDict(jvp, stack, 2 + n, kw) : NULL;
    if (jvp == NULL)
        PyErr_Format(PyExc_AttributeError, "%R has no jvp rule", prim);
    Py_DECREF(ts);
    if (t == NULL || t == Py_None) {
        if (t == NULL)
            Py_CLEAR(ans);
        Py_XDECREF(t);
        return ans;
    }
    return new_jvp_tracer(self, ans, t);
}

/* JVPTracer(self, ans, t), its shape and dtype stored as its __init__ does. Steals ans and
 * t. */
static PyObject *
new_jvp_tracer(PyObject *self, PyObject *ans, PyObject *t)
{
    PyObject *shape, *dtype;
    if (Py_IS_TYPE(ans, ndarray_T)) {
        shape = PyObject_GetAttr(ans, s_shape);
        dtype = Py_NewRef((PyObject *)PyArray_DESCR((PyArrayObject *)ans));
    }
    else if (PyArray_IsScalar(ans, Number)) {  /* a NumPy number: a full reduction's */
        shape = PyTuple_New(0);
        dtype = shape ? (PyObject *)PyArray_DescrFromScalar(ans) : NULL;
    }
    else {
        shape = PyObject_CallOneArg(f_shape, ans);
        dtype = shape ? PyObject_CallOneArg(f_dtype, ans) : NULL;
    }
    PyObject *tracer = dtype ? JVPTracer_T->tp_alloc(JVPTracer_T, 0) : NULL;
    if (tracer == NULL) {
        Py_XDECREF(shape), Py_XDECREF(dtype), Py_DECREF(t), Py_DECREF(ans);
        return NULL;
    }
    SLOT(tracer, oj_trace) = Py_NewRef(self);
    SLOT(tracer, oj_primal) = ans;
    SLOT(tracer, oj_tangent) = t;
    SLOT(tracer, oj_shape) = shape;
    SLOT(tracer, oj_dtype) = dtype;
    return tracer;
}

static PyMethodDef jvp_process_def = {
    "process", (PyCFunction)(void (*)(void))jvp_process, METH_FASTCALL,
    "process(prim, args, params): one primitive on dual numbers (C version)."};

/* init_forward(JVPTrace, JVPTracer, py_process, shape, dtype) -> the method descriptor to
 * install as JVPTrace.process (init_tracer first). */
static PyObject *
init_forward(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyType_Check(args[0]) || !PyType_Check(args[1]) || Primitive_T == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "init_forward(JVPTrace, JVPTracer, py_process, shape, dtype), after "
                        "init_tracer");
        return NULL;
    }
    if (slot_offset(args[1], "_trace", &oj_trace) || slot_offset(args[1], "primal", &oj_primal) ||
        slot_offset(args[1], "tangent", &oj_tangent) || slot_offset(args[1], "_shape", &oj_shape) ||
        slot_offset(args[1], "_dtype", &oj_dtype) ||
        slot_offset(args[0], "joint", &oj_joint) ||
        slot_offset((PyObject *)Primitive_T, "jvp", &o_jvp) ||
        slot_offset((PyObject *)Primitive_T, "joint_jvp", &o_joint_jvp) ||
        slot_offset((PyObject *)Primitive_T, "nondiff", &o_nondiff))
        return NULL;
    Py_XSETREF(JVPTracer_T, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(py_jvp_process, Py_NewRef(args[2]));
    Py_XSETREF(f_shape, Py_NewRef(args[3]));
    Py_XSETREF(f_dtype, Py_NewRef(args[4]));
    return PyDescr_NewMethod((PyTypeObject *)args[0], &jvp_process_def);
}

static PyMethodDef process_def = {
    "process", (PyCFunction)(void (*)(void))vjp_process, METH_FASTCALL,
    "process(prim, args, params): record one primitive on the tape (C version)."};

/* init(VJPTrace, VJPTracer, Tracer, Primitive, ndarray, py_process, py_add, sparse_types,
 * globals) -> the method descriptor to install as VJPTrace.process. */
static PyObject *
init(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "init takes 9 arguments");
        return NULL;
    }
    PyObject *trace_cls = args[0];
    for (int k = 0; k < 5; k++)
        if (!PyType_Check(args[k])) {
            PyErr_SetString(PyExc_TypeError, "init: the first five arguments are classes");
            return NULL;
        }
    if (slot_offset(args[1], "_trace", &o_trace) || slot_offset(args[1], "primal", &o_primal) ||
        slot_offset(args[1], "idx", &o_idx) || slot_offset(args[3], "impl", &o_impl) ||
        slot_offset(args[3], "vjp", &o_vjp) || slot_offset(args[3], "nondiff", &o_nondiff) ||
        slot_offset(args[3], "keep", &o_keep) || slot_offset(trace_cls, "tape", &o_tape) ||
        slot_offset(trace_cls, "keep", &o_keepflag))
        return NULL;
    if (!PyDict_Check(args[8]) || !PyAnySet_Check(args[7])) {
        PyErr_SetString(PyExc_TypeError, "init: sparse_types is a set and globals a dict");
        return NULL;
    }
    Py_XSETREF(VJPTrace_T, (PyTypeObject *)Py_NewRef(trace_cls));
    Py_XSETREF(VJPTracer_T, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(Tracer_T, (PyTypeObject *)Py_NewRef(args[2]));
    Py_XSETREF(Primitive_T, (PyTypeObject *)Py_NewRef(args[3]));
    Py_XSETREF(ndarray_T, (PyTypeObject *)Py_NewRef(args[4]));
    Py_XSETREF(py_process, Py_NewRef(args[5]));
    Py_XSETREF(py_add, Py_NewRef(args[6]));
    Py_XSETREF(sparse_types, Py_NewRef(args[7]));
    Py_XSETREF(globals, Py_NewRef(args[8]));
    return PyDescr_NewMethod((PyTypeObject *)trace_cls, &process_def);
}

static PyMethodDef methods[] = {
    {"init", (PyCFunction)(void (*)(void))init, METH_FASTCALL,
     "init(VJPTrace, VJPTracer, Tracer, Primitive, ndarray, py_process, py_add, sparse_types, "
     "globals): bind this module to the classes; returns the C VJPTrace.process."},
    {"init_tracer", (PyCFunction)(void (*)(void))init_tracer, METH_FASTCALL,
     "init_tracer(Tracer, Trace, Primitive, ndarray, ufunc_rules, no_params, py_array_ufunc): "
     "returns the C Tracer.__array_ufunc__ and Primitive.bind."},
    {"init_forward", (PyCFunction)(void (*)(void))init_forward, METH_FASTCALL,
     "init_forward(JVPTrace, JVPTracer, py_process, shape, dtype): returns the C "
     "JVPTrace.process."},
    {"init_family", (PyCFunction)(void (*)(void))init_family, METH_FASTCALL,
     "init_family(scaled, fit, scalar_types, split_types, family_globals)."},
    {"donated", (PyCFunction)donated, METH_O,
     "donated(v): whether v is a value that dies with the rule now running (see _residuals)."},
    {"donation_learn", (PyCFunction)donation_learn, METH_O,
     "donation_learn(on): learn donated's reference count (see elementwise.py); returns it."},
    {"elision_learn", (PyCFunction)elision_learn, METH_O,
     "elision_learn(on): record the plain operators' call chains (see _methods.py)."},
    {"multiply_jvp", (PyCFunction)(void (*)(void))multiply_jvp, METH_FASTCALL,
     "multiply_jvp((tx, ty), ans, x, y): multiply's JVP."},
    {"backward_loop", (PyCFunction)(void (*)(void))backward_loop, METH_FASTCALL,
     "backward_loop(tape, ct, owned, start, stop, free, record, check): the backward pass."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_speedups",
                                       "C hot paths of the reverse trace.", -1, methods};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    import_array();
    s_KEEP_MIN = PyUnicode_InternFromString("KEEP_MIN");
    s_ELIDE_BYTES = PyUnicode_InternFromString("ELIDE_BYTES");
    out_kwnames = Py_BuildValue("(s)", "out");
    s_shape = PyUnicode_InternFromString("shape");
    s_BIG = PyUnicode_InternFromString("BIG");
    s_materialize = PyUnicode_InternFromString("materialize");
    s_vjp = PyUnicode_InternFromString("vjp");
    which0 = Py_BuildValue("(i)", 0);
    which1 = Py_BuildValue("(i)", 1);
    which01 = Py_BuildValue("(ii)", 0, 1);
    s_process = PyUnicode_InternFromString("process");
    s___call__ = PyUnicode_InternFromString("__call__");
    s_dtype = PyUnicode_InternFromString("dtype");
    s_hasobject = PyUnicode_InternFromString("hasobject");
    if (!s_KEEP_MIN || !s_ELIDE_BYTES || !out_kwnames || !s_materialize || !s_vjp || !which0 || !which1 ||
        !which01 || !s_shape || !s_BIG || !s_process || !s___call__ || !s_dtype || !s_hasobject)
        return NULL;
    if (PyType_Ready(&BinaryMethod_T) < 0 || PyType_Ready(&ElementwiseVJP_T) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "BinaryMethod", (PyObject *)&BinaryMethod_T) < 0 ||
        PyModule_AddObjectRef(m, "ElementwiseVJP", (PyObject *)&ElementwiseVJP_T) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
