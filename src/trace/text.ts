/**
 * The text renderer: one line per trace event,
 *
 *     <time ms>  <who>        <event>   <details>
 *
 * e.g. `     412  s1 -> s3     deliver  NOTIFICATION LOOKING vote=(s3, <0,0>, 0) round=1  #7`.
 * Colours come from a Palette so that this module stays free of terminal concerns: the CLI
 * passes a chalk palette on a terminal and the plain one otherwise. docs/trace.md is the legend.
 */
import { serverName } from '../protocol/config.ts';
import { formatZxid } from '../protocol/zxid.ts';
import type { TraceEvent } from '../sim/events.ts';
import { formatWrite } from '../protocol/format.ts';
import { formatMessage, leaderName } from './format.ts';

/** How each kind of text is coloured. */
export interface Palette {
  time(s: string): string;
  who(s: string): string;
  message(s: string): string;
  drop(s: string): string;
  state(s: string): string;
  vote(s: string): string;
  disk(s: string): string;
  fault(s: string): string;
  note(s: string): string;
}

const id = (s: string): string => s;

export const PLAIN: Palette = { time: id, who: id, message: id, drop: id, state: id, vote: id, disk: id, fault: id, note: id };

const TIME_WIDTH = 8;
const WHO_WIDTH = 12;
const KIND_WIDTH = 9;

function line(p: Palette, ev: TraceEvent, who: string, kind: string, detail: string, colour: (s: string) => string): string {
  return `${p.time(String(ev.t).padStart(TIME_WIDTH))}  ${p.who(who.padEnd(WHO_WIDTH))} ${colour(kind.padEnd(KIND_WIDTH))} ${colour(detail)}`.trimEnd();
}

function link(from: number, to: number, arrow: string): string {
  return `${serverName(from)} ${arrow} ${serverName(to)}`;
}

/** Renders one event as one line (no newline). */
export function renderEvent(ev: TraceEvent, p: Palette = PLAIN): string {
  switch (ev.type) {
    case 'send':
      return line(p, ev, link(ev.from, ev.to, '->'), 'send', `${formatMessage(ev.msg)}  #${ev.id}`, p.message);
    case 'deliver':
      return line(p, ev, link(ev.from, ev.to, '->'), 'deliver', `${formatMessage(ev.msg)}  #${ev.id}`, p.message);
    case 'drop':
      return line(p, ev, link(ev.from, ev.to, '-x'), 'drop', `${formatMessage(ev.msg)}  #${ev.id}  (${ev.reason})`, p.drop);
    case 'timer':
      return line(p, ev, serverName(ev.sid), 'timer', ev.timer, p.note);
    case 'persist':
      return line(p, ev, serverName(ev.sid), 'persist', `${formatWrite(ev.write)}  token ${ev.token}`, p.disk);
    case 'fsync':
      return line(p, ev, serverName(ev.sid), 'fsync', `${formatWrite(ev.write)}  token ${ev.token}${ev.stage === 'tmp' ? '  (tmp file durable, rename pending)' : ''}`, p.disk);
    case 'diskfail':
      return line(p, ev, serverName(ev.sid), 'DISKFAIL', `${formatWrite(ev.write)}  token ${ev.token}  (storage fault: ${ev.reason === 'full' ? 'no space left on the disk' : 'the write failed'})`, p.fault);
    case 'crash':
      return line(p, ev, serverName(ev.sid), 'CRASH', ev.lostWrites > 0 ? `lost ${ev.lostWrites} unsynced write(s)` : '', p.fault);
    case 'snapfile': {
      const file = `snapshot ${formatZxid(ev.zxid)}${ev.lastTxn !== ev.zxid ? ` (data to ${formatZxid(ev.lastTxn)})` : ''}`;
      return ev.change === 'corrupt'
        ? line(p, ev, serverName(ev.sid), 'CORRUPT', `${file} fails its CRC (storage fault)`, p.fault)
        : line(p, ev, serverName(ev.sid), 'REPAIR', `operator removed ${file}, which fails its CRC`, p.disk);
    }
    case 'start':
      return line(p, ev, serverName(ev.sid), ev.restart ? 'RESTART' : 'start', '', ev.restart ? p.fault : p.state);
    case 'halt':
      return line(p, ev, serverName(ev.sid), 'HALT', ev.reason, p.fault);
    case 'partition':
      return line(p, ev, 'network', 'PARTITION', ev.desc, p.fault);
    case 'heal':
      return line(p, ev, 'network', 'HEAL', 'all links restored', p.fault);
    case 'slow':
      return line(p, ev, link(ev.from, ev.to, '->'), 'SLOW', `+${ev.extraMs}ms`, p.fault);
    case 'state':
      return line(p, ev, serverName(ev.sid), 'state', `${ev.state}/${ev.zabState}${ev.leader !== null && ev.state !== 'LEADING' ? ` leader=${serverName(ev.leader)}` : ''}`, p.state);
    case 'vote':
      return line(p, ev, serverName(ev.sid), 'vote', `round=${ev.round} vote=(${leaderName(ev.leader)}, ${formatZxid(ev.zxid)}, ${ev.peerEpoch < 0 ? 'MIN' : ev.peerEpoch})`, p.vote);
    case 'note':
      return line(p, ev, serverName(ev.sid), 'note', ev.text, p.note);
    case 'client':
      return line(p, ev, `c${ev.request.client} -> ${serverName(ev.sid)}`, 'request', `${ev.request.op} ${ev.request.path} cxid=${ev.request.cxid}`, p.message);
    case 'reply':
      return line(p, ev, `${serverName(ev.sid)} -> c${ev.reply.client}`, 'reply', `cxid=${ev.reply.cxid} ${ev.reply.ok ? 'ok' : ev.reply.error ?? 'error'} zxid=${formatZxid(ev.reply.zxid)}`, p.message);
  }
}
