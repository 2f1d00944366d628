/**
 * The page's HTML panels: the records list and the state table. Plain strings: a few dozen rows,
 * rebuilt on every selection.
 */
import type { TraceEvent } from '../../sim/events.ts';
import { fmtZxid, type ServerView } from '../model.ts';
import { renderEvent } from '../text.ts';
import { serverColour } from './colors.ts';

/** A record as the text trace prints it; SNAP trees and snapshot data are left out of the page (html.ts), so those two print their node count. */
export function recordText(ev: TraceEvent): string {
  if ((ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') && ev.msg.type === 'SNAP') {
    const n = (ev.msg as unknown as { znodes: number }).znodes;
    const arrow = ev.type === 'drop' ? '-x' : '->';
    return `${String(ev.t).padStart(8)}  ${`s${ev.from} ${arrow} s${ev.to}`.padEnd(12)} ${ev.type.padEnd(9)} SNAP ${fmtZxid(ev.msg.zxid)} (${n} znodes)  #${ev.id}${ev.type === 'drop' ? `  (${ev.reason})` : ''}`;
  }
  if ((ev.type === 'persist' || ev.type === 'fsync') && ev.write.op === 'snapshot') {
    const n = (ev.write.snapshot as unknown as { znodes: number }).znodes;
    return `${String(ev.t).padStart(8)}  ${`s${ev.sid}`.padEnd(12)} ${ev.type.padEnd(9)} snapshot ${fmtZxid(ev.write.snapshot.zxid)} (${n} znodes)  token ${ev.token}`;
  }
  return renderEvent(ev);
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function zx(z: number | null): string {
  return z === null ? '-' : fmtZxid(z);
}

function logCell(v: ServerView): string {
  if (!v.up) return `<span class="muted">durable: ${v.durableLog.length} txns${v.durableLog.length > 0 ? ` up to ${zx(v.durableLog[v.durableLog.length - 1] as number)}` : ''}</span>`;
  const durable = new Set(v.durableLog);
  const tail = v.log.slice(-6);
  const cells = tail.map((z) => {
    const cls = z <= v.applied ? 'applied' : 'logged';
    const nd = durable.has(z) ? '' : ' nondurable';
    return `<span class="z ${cls}${nd}" title="${z <= v.applied ? 'applied (committed prefix)' : 'logged, not applied'}${durable.has(z) ? ', durable' : ', not yet durable'}">${fmtZxid(z)}</span>`;
  });
  const more = v.log.length > tail.length ? `<span class="muted">… ${v.log.length - tail.length} more</span> ` : '';
  const base = v.logBase > 0 ? `<span class="muted">snapshot ${fmtZxid(v.logBase)} +</span> ` : '';
  return `${base}${more}${cells.join(' ')}${v.log.length === 0 ? '<span class="muted">empty</span>' : ''}<div class="muted">applied ≤ ${fmtZxid(v.applied)}</div>`;
}

/** The state table: one row per server; `focus` marks the servers of a violation at this record. */
export function stateHtml(views: readonly ServerView[], sids: readonly number[], focus: ReadonlySet<number>): string {
  const rows = sids.map((sid) => {
    const v = views[sid] as ServerView;
    const role = v.up ? `${v.role}<div class="muted">${v.phase}${v.leader !== null && v.role !== 'LEADING' ? ` → s${v.leader}` : ''}</div>` : '<b class="down">DOWN</b>';
    const epochs = v.up ? `${v.acceptedEpoch ?? '-'} / ${v.currentEpoch ?? '-'}` : `<span class="muted">${v.disk.acceptedEpoch ?? '-'} / ${v.disk.currentEpoch ?? '-'} (files)</span>`;
    const vote = v.up && v.vote !== null ? `r${v.vote.round} (s${v.vote.leader}, ${fmtZxid(v.vote.zxid)}, ${v.vote.peerEpoch < 0 ? 'MIN' : v.vote.peerEpoch})` : '-';
    const pending = v.pending.length === 0 ? '<span class="muted">none</span>' : v.pending.slice(0, 4).map((p) => `<div>${escapeHtml(p.text)} <span class="muted">#${p.token}${p.stage === 'tmp' ? ' tmp' : ''}</span></div>`).join('') + (v.pending.length > 4 ? `<div class="muted">+${v.pending.length - 4} more</div>` : '');
    const conns = !v.up ? '-' : v.role === 'LEADING' ? (v.connections.length > 0 ? `learners ${v.connections.map((s) => `s${s}`).join(' ')}` : '<span class="muted">no learners</span>') : v.connections.length > 0 ? `leader s${v.connections[0]}` : '<span class="muted">none</span>';
    return `<tr class="${focus.has(sid) ? 'focus' : ''}" data-sid="${sid}"><th style="color:${serverColour(sid)}">s${sid}</th><td class="role">${role}</td><td>${epochs}</td><td>${vote}</td><td class="log">${logCell(v)}</td><td>${pending}</td><td>${conns}</td></tr>`;
  });
  return `<table><thead><tr><th></th><th>role / phase</th><th>accepted / current epoch</th><th>vote</th><th>log (last 6; green: applied, blue: logged, underlined: not durable)</th><th>pending writes</th><th>connections</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
