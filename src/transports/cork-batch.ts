/**
 * Links written to during one event-loop turn are corked on their first write and uncorked all
 * together once, so a fan-out to N subscribers costs one write syscall per subscriber per turn,
 * not one per packet. The writer keeps its own "corked" flag so each link joins once per turn.
 */

/** Something that corked itself and must be uncorked at the end of the turn. */
export interface TurnCorked {
  uncorkTurn(): void;
}

const corked: TurnCorked[] = [];
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  // Uncorking may deliver more (drain handlers): take the list first.
  for (let i = 0; i < corked.length; i++) corked[i]!.uncorkTurn();
  corked.length = 0;
}

/** Registers an already-corked writer to be uncorked at the end of this turn. */
export function uncorkAtEndOfTurn(item: TurnCorked): void {
  corked.push(item);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(uncorkAll);
  }
}
