#!/usr/bin/env python3
"""face_recognition (dlib) on the same folder of people, same pair definitions as `face eval`."""
import os, sys, time, json, itertools
import numpy as np, face_recognition
D=sys.argv[1]
SKIP=set(open(sys.argv[2]).read().split()) if len(sys.argv)>2 else set()
emb=[]; times=[]; cpu=[]; skipped=0
for p in sorted(os.listdir(D)):
    for f in sorted(os.listdir(os.path.join(D,p))):
        if os.path.join(D,p,f) in SKIP: continue
        img=face_recognition.load_image_file(os.path.join(D,p,f))
        t=time.perf_counter(); c=time.process_time()
        locs=face_recognition.face_locations(img)
        if not locs: times.append(time.perf_counter()-t); cpu.append(time.process_time()-c); skipped+=1; continue
        big=max(locs,key=lambda l:(l[2]-l[0])*(l[1]-l[3]))
        e=face_recognition.face_encodings(img,[big])[0]
        times.append(time.perf_counter()-t); cpu.append(time.process_time()-c)
        emb.append((p,e))
g=[];i=[]
for (pa,a),(pb,b) in itertools.combinations(emb,2):
    s=-float(np.linalg.norm(a-b))  # higher = more similar
    (g if pa==pb else i).append(s)
g=np.sort(g); i=np.sort(i)
auc=float(((g[:,None]>i[None,:]).sum()+0.5*(g[:,None]==i[None,:]).sum())/(len(g)*len(i)))
def far_thr(far):
    desc=i[::-1]; k=int(np.floor(far*len(i)))
    return np.nextafter(desc[k],np.inf) if k<len(desc) else -np.inf
eer=1; gap=9
for t in np.concatenate([g,i]):
    fa=(i>=t).mean(); fr=1-(g>=t).mean()
    if abs(fa-fr)<gap: gap=abs(fa-fr); eer=(fa+fr)/2
print(json.dumps({"images":len(times),"no_face":skipped,"genuine_pairs":len(g),"impostor_pairs":len(i),"roc_auc":round(auc,4),"eer":round(float(eer),4),
 "tar_at_far_1e2":float((g>=far_thr(1e-2)).mean()),"tar_at_far_1e3":float((g>=far_thr(1e-3)).mean()),
 "accept_rate_genuine_at_0.6":float((g>=-0.6).mean()),"accept_rate_impostor_at_0.6":float((i>=-0.6).mean()),
 "ms_per_image_p50":round(1000*float(np.median(times)),1),"ms_per_image_p99":round(1000*float(np.percentile(times,99)),1),
 "cpu_ms_per_image_p50":round(1000*float(np.median(cpu)),1)}))
