/**
 * The viewer's colours: one per server and one per message kind, chosen so that neighbours
 * differ (Tableau 10 for servers; message kinds grouped by phase: election grey-blue, discovery
 * purples, sync oranges, broadcast blues and greens, client requests pink, pings light grey).
 */
const SERVER_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function serverColour(sid: number): string {
  return SERVER_COLOURS[(sid - 1) % SERVER_COLOURS.length] as string;
}

/** Message type → colour, in the legend's order. */
export const MESSAGE_COLOURS: Readonly<Record<string, string>> = {
  NOTIFICATION: '#8da0cb',
  FOLLOWERINFO: '#6a3d9a',
  OBSERVERINFO: '#9e7cc1',
  LEADERINFO: '#984ea3',
  ACKEPOCH: '#c2a5cf',
  DIFF: '#e6550d',
  TRUNC: '#a63603',
  SNAP: '#fd8d3c',
  NEWLEADER: '#d94801',
  UPTODATE: '#f16913',
  PROPOSAL: '#2171b5',
  ACK: '#41ab5d',
  COMMIT: '#006d2c',
  INFORM: '#17becf',
  REQUEST: '#e377c2',
  SYNC: '#bcbd22',
  PING: '#c7c7c7',
  CLOSE: '#252525',
};

export function messageColour(type: string): string {
  return MESSAGE_COLOURS[type] ?? '#7f7f7f';
}

/** Client operation outcomes in the plots. */
export const OUTCOME_COLOURS: Readonly<Record<string, string>> = { ok: '#2ca02c', error: '#d62728', unknown: '#ff7f0e', pending: '#7f7f7f' };

/** Fault shading in the diagram and the plots. */
export const DOWN_FILL = 'rgba(214, 39, 40, 0.10)';
export const PARTITION_FILL = 'rgba(255, 127, 14, 0.13)';
