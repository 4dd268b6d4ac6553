#!/usr/bin/env python3
"""
Runs Darknet itself (Debian's libdarknet.so via ctypes) on the files written by `check-darknet.ts write DIR`:
for each cfg model, loads /usr/share/darknet/cfg/<cfg> with DIR/<arch>.weights and saves its output for
DIR/<arch>.x.npy as DIR/<arch>.y.npy (softmax probabilities, as the cfgs end with [softmax]).
"""
import ctypes
import sys

import numpy as np

CFGS = {'darknet_reference': 'darknet.cfg', 'tiny_darknet': 'tiny.cfg', 'darknet19': 'darknet19.cfg', 'darknet53_original': 'darknet53.cfg'}
d = sys.argv[1]
lib = ctypes.CDLL('/usr/lib/darknet/libdarknet.so')
lib.load_network.restype = ctypes.c_void_p
lib.load_network.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
lib.set_batch_network.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.network_predict.restype = ctypes.POINTER(ctypes.c_float)
lib.network_predict.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float)]
for arch, cfg in CFGS.items():
    net = lib.load_network(f'/usr/share/darknet/cfg/{cfg}'.encode(), f'{d}/{arch}.weights'.encode(), 0)
    lib.set_batch_network(net, 1)
    x = np.ascontiguousarray(np.load(f'{d}/{arch}.x.npy')[0], dtype=np.float32)  # CHW in [0, 1]
    out = lib.network_predict(net, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    y = np.ctypeslib.as_array(out, shape=(1000,)).copy()
    np.save(f'{d}/{arch}.y.npy', y.reshape(1, 1000))
    print(arch, 'sum', float(y.sum()), 'top5', list(np.argsort(-y)[:5]))
