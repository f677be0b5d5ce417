#!/usr/bin/env python3
"""Builds the embedder-comparison set: test photos and group-photo faces, each also darker,
brighter, mirrored and low-resolution. Usage: make_evalset.py OUT_DIR (from the repo root)."""
import sys, os, io; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from pipe import *
from PIL import Image, ImageEnhance
T="models/testdata"; O=sys.argv[1] if len(sys.argv) > 1 else "/tmp/evalset"
import shutil; shutil.rmtree(O, ignore_errors=True)
def variants(img):
    im=Image.fromarray(img); w,h=im.size
    out={"orig":im, "dark":ImageEnhance.Brightness(im).enhance(0.55), "bright":ImageEnhance.Brightness(im).enhance(1.35),
         "mirror":im.transpose(Image.FLIP_LEFT_RIGHT)}
    s=im.resize((max(1,w//3),max(1,h//3)),Image.BILINEAR); b=io.BytesIO(); s.save(b,"JPEG",quality=60)
    out["lowres"]=Image.open(b).resize((w,h),Image.BILINEAR)
    return out
people={"obama":["people/obama/obama.jpg","people/obama/obama2.jpg","people/obama/obama3.jpg"],"biden":["people/biden/biden.jpg"],
        "hanks":["strangers/hanks.png"],"astronaut":["strangers/astronaut.jpg"]}
imgs={}
for p,fs in people.items():
    for f in fs: imgs.setdefault(p,[]).append((os.path.basename(f).split('.')[0], load(T+"/"+f)))
for g in ["strangers/group_t1.jpg","strangers/group_sample1.jpg"]:
    img=load(T+"/"+g); tag=os.path.basename(g).split('.')[0]
    for j,(box,lm,s) in enumerate(detect(img)[:8]):
        x0,y0,x1,y1=box; cw=x1-x0
        if cw<40: continue
        c=img[int(max(0,y0-cw)):int(y1+cw),int(max(0,x0-cw)):int(x1+cw)]
        imgs[f"{tag}_{j}"]=[("crop",c.copy())]
for p,lst in imgs.items():
    os.makedirs(f"{O}/{p}",exist_ok=True)
    for base,img in lst:
        for v,im in variants(img).items(): im.save(f"{O}/{p}/{base}_{v}.jpg",quality=92)
print(len(imgs),"people", sum(len(os.listdir(f"{O}/{p}")) for p in imgs),"images")
