/**
 * A member leaving a shared group (its connection ends, its session ends) must not take the
 * group's messages with it: what it had in flight or queued goes to another member. A file of
 * its own because both a detach and a session's end do it, and neither is on the publish path.
 */
import type { Deliveries } from './delivery.js';
import type { QoS } from './message.js';
import type { Router } from './router.js';
import type { Session, SharedGroupRef } from './session.js';

/** Moves shared-group deliveries of a departing member to another member; with none, the departing one keeps them when `keepIfAlone`. */
export function redispatchShared(delivery: Deliveries, router: Router, session: Session, keepIfAlone: boolean): void {
  if (session.inflight.size === 0 && session.queue.length === 0) return;
  const taken = delivery.takeShared(session);
  for (const out of taken) {
    const member = router.redispatchTarget(out.group as SharedGroupRef, session);
    if (member === null) {
      // No other member: the departing one keeps it if its session lives on.
      if (keepIfAlone) delivery.deliver(session, out.msg, out.qos, out.retain, out.subscriptionIds, out.group);
      continue;
    }
    const qos = (out.msg.qos < member.qos ? out.msg.qos : member.qos) as QoS;
    delivery.deliver(member.session, out.msg, qos, out.retain, out.subscriptionIds, out.group);
  }
}
