"""Python twin of the Rust pipeline (BlazeFace + similarity alignment) for measuring embedders.

ONNX_DIR: folder with the converted models (convert.py --out; default models/onnx).
"""
import os
import numpy as np, onnxruntime as ort
from PIL import Image, ImageOps
O=os.environ.get("ONNX_DIR", "models/onnx").rstrip("/") + "/"
def sess(m): 
    so=ort.SessionOptions(); so.intra_op_num_threads=1
    return ort.InferenceSession(O+m+".onnx", so)
BF=sess("blazeface-back")
def anchors():
    a=[]
    for stride,n in ((16,2),(32,6)):
        g=256//stride
        for y in range(g):
            for x in range(g):
                for _ in range(n): a.append((stride*(x+.5),stride*(y+.5)))
    return np.array(a,np.float32)
ANC=anchors()
def load(p):
    im=ImageOps.exif_transpose(Image.open(p)).convert("RGB"); return np.asarray(im)
def detect(img, thr=0.6):
    h,w,_=img.shape; s=max(h,w)
    pad=np.zeros((s,s,3),np.uint8); pad[:h,:w]=img
    x=np.asarray(Image.fromarray(pad).resize((256,256),Image.BILINEAR),np.float32)/127.5-1
    o=BF.run(None,{"input:0":x[None]})
    d=dict(zip([o_.name for o_ in BF.get_outputs()],o))
    reg=np.concatenate([d["Identity_2:0"][0],d["Identity_3:0"][0]]); sc=np.concatenate([d["Identity:0"][0],d["Identity_1:0"][0]])[:,0]
    sc=1/(1+np.exp(-np.clip(sc,-80,80)))
    k=s/256.
    res=[]
    for i in np.argsort(-sc):
        if sc[i]<thr: break
        cx,cy=reg[i,0]+ANC[i,0],reg[i,1]+ANC[i,1]; bw,bh=reg[i,2],reg[i,3]
        box=np.array([cx-bw/2,cy-bh/2,cx+bw/2,cy+bh/2])*k
        lm=(reg[i,4:16].reshape(6,2)+ANC[i])*k
        if any(iou(box,r[0])>0.3 for r in res): continue
        res.append((box,lm,sc[i]))
    return res
def iou(a,b):
    ix=max(0,min(a[2],b[2])-max(a[0],b[0])); iy=max(0,min(a[3],b[3])-max(a[1],b[1]))
    i=ix*iy; u=(a[2]-a[0])*(a[3]-a[1])+(b[2]-b[0])*(b[3]-b[1])-i; return i/max(u,1e-6)
ARC=np.array([[38.2946,51.6963],[73.5318,51.5014],[56.0252,71.7366],[41.5493,92.3655],[70.7299,92.2041]],np.float32)
def template4(size, scale=1.0, shift_y=0.0):
    t=np.array([ARC[0],ARC[1],ARC[2],(ARC[3]+ARC[4])/2])
    c=np.array([56,56+shift_y]); t=(t-c)*scale+np.array([56,56])
    return t*size/112.
def umeyama(src,dst):
    ms,md=src.mean(0),dst.mean(0); s0,d0=src-ms,dst-md
    # similarity: dst = a*R*src + t ; closed form with complex numbers
    zs=s0[:,0]+1j*s0[:,1]; zd=d0[:,0]+1j*d0[:,1]
    a=(np.conj(zs)@zd)/(np.conj(zs)@zs)
    M=np.array([[a.real,-a.imag],[a.imag,a.real]]); t=md-M@ms
    return M,t
def warp(img,M,t,size):
    # inverse map
    Mi=np.linalg.inv(M); ys,xs=np.mgrid[0:size,0:size].astype(np.float32)
    pts=np.stack([xs.ravel()-t[0],ys.ravel()-t[1]]); src=Mi@pts
    sx,sy=src[0],src[1]; h,w,_=img.shape
    x0=np.floor(sx).astype(int); y0=np.floor(sy).astype(int); fx=sx-x0; fy=sy-y0
    def g(yy,xx):
        m=(xx>=0)&(xx<w)&(yy>=0)&(yy<h); v=np.zeros((len(xx),3),np.float32)
        v[m]=img[yy[m],xx[m]]; return v
    out=g(y0,x0)*((1-fx)*(1-fy))[:,None]+g(y0,x0+1)*(fx*(1-fy))[:,None]+g(y0+1,x0)*((1-fx)*fy)[:,None]+g(y0+1,x0+1)*(fx*fy)[:,None]
    return out.reshape(size,size,3)
def align(img,lm,size,scale=1.0,shift_y=0.0):
    src=np.array([lm[0],lm[1],lm[2],lm[3]],np.float32)
    M,t=umeyama(src,template4(size,scale,shift_y)); return warp(img,M,t,size)
