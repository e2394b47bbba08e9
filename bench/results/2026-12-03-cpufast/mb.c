#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gk_fast_impl.h"
#include "gk_ops.h"
#include "quant.h"
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(int argc,char**argv){
  int COLS=getenv("COLS")?atoi(getenv("COLS")):2880; int ROWS=argc>1?atoi(argv[1]):512;
  gq_type ts[]={GQ_MXFP4,GQ_Q8_32,GQ_Q4_32};
  float *x=malloc(COLS*4); for(int i=0;i<COLS;i++) x[i]=(float)((i*37)%11-5)*0.1f;
  const gk_fast_kernels *ks[]={&gk_fast_avx512vnni,&gk_fast_avx512vbmi};
  for(int ti=0;ti<(argc>4?1:3);ti++){
    size_t rb=gq_row_bytes(ts[ti],COLS); unsigned char*w=malloc(rb*ROWS+64);
    for(size_t i=0;i<rb*ROWS;i++) w[i]=(unsigned char)((i*2654435761u)>>24);
    size_t bb=gq_traits_of(ts[ti])->block_bytes;
    for(size_t b=0;b<rb*ROWS;b+=bb){ if(ts[ti]==GQ_MXFP4) w[b]=118+b%10; else {w[b]=0x1f;w[b+1]=0x21;} }
    gk_xpack pk[2]; void*mem0=aligned_alloc(64,gk_xpack_bytes(COLS)),*mem1=aligned_alloc(64,gk_xpack_bytes(COLS)); gk_xpack_fill(&pk[0],mem0,x,COLS,ts[ti],0); gk_xpack_fill(&pk[1],mem1,x,COLS,ts[ti],1); gk_xpack p=pk[0]; void*mem=mem0;
    double best[2]={1e9,1e9}; float chk[2]={0,0};
    int only=argc>2?atoi(argv[2]):-1; int nrep=argc>3?atoi(argv[3]):40;
    for(int rep=0;rep<nrep;rep++) for(int k=0;k<2;k++){ if(only>=0&&k!=only) continue;
      int inner=(4096+ROWS-1)/ROWS; double t0=now(); float s=0;
      for(int it=0;it<inner;it++){ s=0; for(int r=0;r<ROWS;r++) s+=ks[k]->dot(w+rb*r,&pk[k]); }
      double dt=(now()-t0)/inner; if(dt<best[k])best[k]=dt; chk[k]=s;
    }
    double t0=now(); for(int rep=0;rep<40;rep++) gk_xpack_fill(&p,mem,x,COLS,ts[ti],0); double tf=(now()-t0)/40;
    printf("%s: vnni %.2f Gp/s  vbmi %.2f Gp/s  (sum %a %a %s) fill %.1f us = %.1f%% of one vbmi matvec\n",gq_traits_of(ts[ti])->name,
      ROWS*COLS/best[0]/1e9,ROWS*COLS/best[1]/1e9,chk[0],chk[1],chk[0]==chk[1]?"same":"DIFF",tf*1e6,100*tf/best[1]);
  }
}
