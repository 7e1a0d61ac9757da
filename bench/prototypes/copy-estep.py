# Copy-aware against copy-unaware E-step (issue 13), measured on a numpy stand-in for lla: a first-order HMM with
# K topics trained by Gibbs sampling on 200-token chunks of the training users of the held-out-users split, scored
# on the test users by the forward algorithm with the copy component lambda_t = C_t / (C_t + mu), decay 0.95.
# "unaware" keeps every token in phi (what lla does); "aware" samples a copy indicator with each topic (lambda as
# above, mu 10) and leaves the copied tokens out of phi.
#   npx tsx bench/held-out-users-split.ts ../shared/data/gitdev-events.tsv.gz /tmp/split
#   python3 bench/prototypes/copy-estep.py /tmp/split 50 unaware 30
#   python3 bench/prototypes/copy-estep.py /tmp/split 50 aware 30
# Needs numpy. Prints the share of tokens marked as copies, the held-out perplexity without copy, and with copy
# at mu 3, 10 and 30.
import gzip, os, numpy as np, math, sys, time
rng=np.random.default_rng(0)
def read(path):
    users={}
    with gzip.open(path,'rt') as f:
        for i,line in enumerate(f):
            u,t,a=line.rstrip('\n').split('\t')
            if i==0 and not t.isdigit(): continue
            users.setdefault(u,[]).append((int(t),len(users.get(u,[])),a))
    return [(u,[a for _,_,a in sorted(v)]) for u,v in users.items()]
folder=sys.argv[1]
train=read(os.path.join(folder,'train.tsv.gz')); test=read(os.path.join(folder,'test.tsv.gz'))
vocab=sorted(set(a for _,s in train for a in s)); idx={a:i for i,a in enumerate(vocab)}; V=len(vocab)
K=int(sys.argv[2]); aware=sys.argv[3]=='aware'; iters=int(sys.argv[4]); MU=10.0; G=0.95
beta=0.01; CH=200
tr=[[idx[a] for a in s] for _,s in train]; te=[[idx[a] for a in s] for _,s in test]
def copystats(s):
    c={}; tot=0.0; q=np.zeros(len(s)); lam=np.zeros(len(s))
    for t,w in enumerate(s):
        if tot>0: q[t]=c.get(w,0)/tot; lam[t]=tot/(tot+MU)
        for k in list(c): c[k]*=G
        tot*=G; c[w]=c.get(w,0)+1; tot+=1
        if len(c)>400:
            c={k:v for k,v in c.items() if v>1e-9}
    return q,lam
chunks=[];Q=[];LAM=[]
for s in tr:
    q,lam=copystats(s)
    for i in range(0,len(s),CH): chunks.append(s[i:i+CH]); Q.append(q[i:i+CH]); LAM.append(lam[i:i+CH])
L=CH
def pad(ss,L,dtype):
    W=np.zeros((len(ss),L),dtype); M=np.zeros((len(ss),L),bool)
    for i,s in enumerate(ss): W[i,:len(s)]=s; M[i,:len(s)]=True
    return W,M
W,M=pad(chunks,L,int); Qm,_=pad(Q,L,float); LM,_=pad(LAM,L,float)
Z=rng.integers(0,K,W.shape); B=np.zeros(W.shape,bool)
def estimate(Z,B):
    keep=M&~B
    nkw=np.zeros((K,V)); np.add.at(nkw,(Z[keep],W[keep]),1)
    phi=(nkw+beta)/(nkw.sum(1,keepdims=True)+V*beta)
    A=np.ones((K+1,K))*0.1
    prev=np.concatenate([np.full((Z.shape[0],1),K),Z[:,:-1]],1)
    np.add.at(A,(prev[M],Z[M]),1); A/=A.sum(1,keepdims=True)
    return phi,A
def gibbs(Z,B,phi,A):
    N=W.shape[0]; Z=Z.copy(); B=B.copy(); lens=M.sum(1)
    for t in range(L):
        prev=Z[:,t-1] if t>0 else np.full(N,K)
        base=A[prev]
        if t+1<L:
            has=lens>t+1
            base=np.where(has[:,None],base*A[:K][:,Z[:,t+1]].T,base)
        if aware:
            lam=LM[:,t][:,None]; q=Qm[:,t][:,None]
            p0=base*(1-lam)*phi[:,W[:,t]].T; p1=base*lam*q
            p=np.concatenate([p0,p1],1)
        else:
            p=base*phi[:,W[:,t]].T
        p/=p.sum(1,keepdims=True)
        u=rng.random(N)[:,None]
        j=(p.cumsum(1)<u).sum(1).clip(0,p.shape[1]-1)
        Z[:,t]=np.where(M[:,t],j%K,Z[:,t]); B[:,t]=np.where(M[:,t],j>=K,False)
    return Z,B
def evaluate(phi,A,mu=None):
    ll=0;n=0
    for s in te:
        al=A[K].copy(); c=np.zeros(V); tot=0.0
        for w in s:
            pz=phi[:,w]
            if mu is None: lam=0; cache=0
            else: lam=tot/(tot+mu); cache=c[w]/tot if tot>0 else 0
            e=al*(lam*cache+(1-lam)*pz); sm=e.sum(); ll+=math.log(sm); n+=1
            al=(e/sm)@A[:K]
            c*=G; tot*=G; c[w]+=1; tot+=1
    return math.exp(-ll/n)
t0=time.time()
for it in range(iters):
    phi,A=estimate(Z,B); Z,B=gibbs(Z,B,phi,A)
phi,A=estimate(Z,B)
print('aware' if aware else 'unaware', 'copied share', B[M].mean().round(3), 'hmm', round(evaluate(phi,A),1), flush=True)
for mu in [3,10,30]:
    print('copy mu',mu,round(evaluate(phi,A,mu),1),flush=True)
print('time',round(time.time()-t0))
