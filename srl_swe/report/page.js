document.querySelectorAll('table.sortable th').forEach((th,col)=>th.addEventListener('click',()=>{
 const body=th.closest('table').tBodies[0],rows=[...body.rows],up=th.dataset.dir!=='up';th.dataset.dir=up?'up':'down';
 const key=r=>{const t=r.cells[col].innerText.trim(),n=parseFloat(t.replace('−','-'));return isNaN(n)?t:n};
 rows.sort((a,b)=>{const x=key(a),y=key(b);return (x>y?1:x<y?-1:0)*(up?1:-1)});rows.forEach(r=>body.appendChild(r))}));
document.querySelectorAll('.controls').forEach(box=>{
 const list=document.getElementById(box.dataset.list),cards=[...list.children];
 const get=n=>box.querySelector('[name='+n+']');
 const apply=()=>{const inst=get('instance').value,fmt=get('format').value,max=parseFloat(get('max').value),
  order=get('sort').value;let shown=0;
  cards.forEach(c=>{const r=parseFloat(c.dataset.reward),ok=(!inst||c.dataset.instance===inst)&&
   (!fmt||c.dataset.format===fmt)&&(isNaN(max)||r<=max);c.style.display=ok?'':'none';shown+=ok});
  const sorted=[...cards];if(order!=='order')sorted.sort((a,b)=>(a.dataset.reward-b.dataset.reward)*(order==='up'?1:-1));
  sorted.forEach(c=>list.appendChild(c));box.querySelector('.count').textContent=shown+' of '+cards.length+' shown'};
 box.querySelectorAll('select,input').forEach(e=>e.addEventListener('input',apply));apply()});
