// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring xenbus state helper: one implementation of the
 * Initialising / InitWait / Initialised / Connected / Closing / Closed
 * handshake, and of Reconfiguring / Reconfigured on a live connection, for
 * every splitkit driver, frontend or backend (ring/driver.c is the driver
 * skeleton around it).
 *
 * The decisions are the pure function sk_xb_next() (ring/core/state.c,
 * unit-tested and fuzzed); this file performs them: it calls the driver's
 * setup / connect / disconnect, switches our state, and asks again until
 * nothing is left to do, so skipped peer states and repeated or spurious
 * watch events need no special cases in drivers.
 */
#include <linux/mutex.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

/* More steps than any state pair needs (the unit tests prove <= 3). */
#define SK_XB_MAX_STEPS	4

/**
 * sk_xb_init() - prepare the state helper of one device end.
 * @xb: helper, usually embedded in the driver's device struct.
 * @dev: the xenbus device.
 * @frontend: true in a frontend driver.
 * @ops: the driver's callbacks; @setup is only used by frontends.
 * @priv: driver data for the callbacks.
 *
 * A backend driver advertises its limits and switches to InitWait in its
 * probe as usual; a frontend starts in Initialising.
 */
void sk_xb_init(struct sk_xb *xb, struct xenbus_device *dev, bool frontend,
		const struct sk_xb_ops *ops, void *priv)
{
	xb->dev = dev;
	xb->ops = ops;
	xb->frontend = frontend;
	xb->priv = priv;
	mutex_init(&xb->lock);
}
SPLITKIT_EXPORT(sk_xb_init);

/**
 * sk_xb_start() - announce a freshly probed device end.
 * @xb: helper, after sk_xb_init().
 *
 * Call at the end of probe.  A frontend (re)enters Initialising, which is
 * also how it asks a backend that closed earlier, e.g. before the driver
 * was unbound and bound again, to start over; a backend, having
 * advertised its limits, enters InitWait.
 *
 * Return: 0 or the xenbus error.
 */
int sk_xb_start(struct sk_xb *xb)
{
	enum xenbus_state s = xb->frontend ? XenbusStateInitialising :
					     XenbusStateInitWait;
	int err = 0;

	mutex_lock(&xb->lock);
	if (xb->dev->state != s)
		err = xenbus_switch_state(xb->dev, s);
	mutex_unlock(&xb->lock);
	return err;
}
SPLITKIT_EXPORT(sk_xb_start);

static int sk_xb_do(struct sk_xb *xb, enum sk_xb_action act)
{
	int err = 0;

	/*
	 * New rings (a frontend's setup, a backend's connect): a mark left
	 * by rings a resume tore down outside the helper is not theirs.
	 */
	if (act == SK_XB_SETUP || (act == SK_XB_CONNECT && !xb->frontend))
		WRITE_ONCE(xb->ring_fatal, false);
	switch (act) {
	case SK_XB_SETUP:
		err = xb->ops->setup ? xb->ops->setup(xb) : -EINVAL;
		break;
	case SK_XB_CONNECT:
		err = xb->ops->connect(xb);
		break;
	case SK_XB_DISCONNECT:
	case SK_XB_CLOSE:
		xb->ops->disconnect(xb);
		/* its rings are stopped: none reports anything any more */
		WRITE_ONCE(xb->ring_fatal, false);
		break;
	case SK_XB_RECONFIGURE:
		err = xb->ops->reconfigure(xb);
		break;
	case SK_XB_RECONNECT:
		err = xb->ops->reconnect ? xb->ops->reconnect(xb) : 0;
		break;
	case SK_XB_RESET:
	case SK_XB_NONE:
		break;
	}
	return err;
}

/* An action the driver cannot perform yet (or at all): stay where we are. */
static bool sk_xb_waits(struct sk_xb *xb, enum sk_xb_action act)
{
	if (act == SK_XB_CONNECT && xb->ops->ready && !xb->ops->ready(xb))
		return true;
	return act == SK_XB_RECONFIGURE && !xb->ops->reconfigure;
}

/*
 * A ring's report of a protocol violation (ring/chan.c) switches the
 * device to Closing from a work item, which may run while a step above
 * connects: our switch to Connected must not undo it.  The report marks
 * @xb first; after our switches we read the mark: either we see it and
 * close again, or the report's own switch comes after ours.
 */
static void sk_xb_keep_fatal(struct sk_xb *xb)
{
	struct xenbus_device *dev = xb->dev;

	smp_mb();	/* our switches before the mark; pairs with the report */
	if (!READ_ONCE(xb->ring_fatal) || dev->state == XenbusStateClosing ||
	    dev->state == XenbusStateClosed)
		return;
	xenbus_dev_fatal(dev, -EIO,
			 "malicious or buggy peer: ring protocol violation");
}

/**
 * sk_xb_ring_fatal() - a ring of the device broke the protocol.
 * @xb: the device end's state helper.
 *
 * Called by splitkit_ring's report (process context, without @xb->lock)
 * before it switches the device to Closing; until the next disconnect the
 * helper switches it back to Closing after any step of its own.
 */
void sk_xb_ring_fatal(struct sk_xb *xb)
{
	WRITE_ONCE(xb->ring_fatal, true);
	smp_mb();	/* the mark before the report's switch */
}
SPLITKIT_EXPORT(sk_xb_ring_fatal);

/**
 * sk_xb_peer_changed() - react to the peer's XenStore state.
 * @xb: helper.
 * @peer: the state the xenbus core read for the other end (any value a
 *	  malicious or buggy peer wrote).
 *
 * Call from the xenbus driver's otherend_changed.  Process context (the
 * xenwatch thread); takes @xb->lock.  A failing setup or connect is fatal
 * for the device (xenbus_dev_fatal() switches it to Closing); the driver's
 * callback has already undone its own partial work.
 */
void sk_xb_peer_changed(struct sk_xb *xb, enum xenbus_state peer)
{
	struct xenbus_device *dev = xb->dev;
	enum sk_xb_action act;
	enum sk_xb_state next;
	int step, err;

	mutex_lock(&xb->lock);
	for (step = 0; step < SK_XB_MAX_STEPS; step++) {
		act = sk_xb_next(xb->frontend, dev->state, (u32)peer);
		if (act == SK_XB_NONE || sk_xb_waits(xb, act))
			break;
		dev_dbg(&dev->dev, "%s, peer %s: action %d\n",
			xenbus_strstate(dev->state), xenbus_strstate(peer),
			act);
		err = sk_xb_do(xb, act);
		if (err) {
			if (dev->state != XenbusStateClosing)
				xenbus_dev_fatal(dev, err, "%s",
						 act == SK_XB_SETUP ?
						 "setting up rings" :
						 act == SK_XB_CONNECT ?
						 "connecting" : "reconfiguring");
			xb->ops->disconnect(xb);
			break;
		}
		next = sk_xb_target(xb->frontend, act);
		if (xb->frontend && next == SK_XB_CLOSED) {
			xenbus_frontend_closed(dev);
			continue;
		}
		/* closing for good: libxl reads Closed as "resources free" */
		if (next == SK_XB_CLOSED && xb->ops->release &&
		    !xenbus_dev_is_online(dev))
			xb->ops->release(xb);
		xenbus_switch_state(dev, (enum xenbus_state)next);
	}
	sk_xb_keep_fatal(xb);
	if (xb->ops->connected && dev->state == XenbusStateConnected &&
	    peer == XenbusStateConnected)
		xb->ops->connected(xb);
	mutex_unlock(&xb->lock);
}
SPLITKIT_EXPORT(sk_xb_peer_changed);

/**
 * sk_xb_reconfigure() - start reconfiguring a live connection.
 * @xb: helper of a Connected end.
 * @write: optional: writes the new keys the peer is to adapt to; called
 *	   under @xb->lock on a Connected end only.  A non-zero return is
 *	   returned and nothing else happens.
 *
 * Enters Reconfiguring; the peer adapts (its sk_xb_ops.reconfigure) and
 * says Reconfigured, our reconnect op takes up what it did, and the helper
 * returns to Connected.  Process context; takes @xb->lock.
 *
 * Return: 0, -EBUSY if not Connected (nothing written), @write's error, or
 * the xenbus error.
 */
int sk_xb_reconfigure(struct sk_xb *xb, int (*write)(struct sk_xb *xb))
{
	int err = -EBUSY;

	mutex_lock(&xb->lock);
	if (xb->dev->state == XenbusStateConnected) {
		err = write ? write(xb) : 0;
		if (!err)
			err = xenbus_switch_state(xb->dev,
						  XenbusStateReconfiguring);
		sk_xb_keep_fatal(xb);
	}
	mutex_unlock(&xb->lock);
	return err;
}
SPLITKIT_EXPORT(sk_xb_reconfigure);

/**
 * sk_xb_remove() - the device goes away: tear down and say Closed.
 * @xb: helper.
 *
 * Call from the xenbus driver's remove (unbind, module unload, xl destroy).
 * Process context; takes @xb->lock.
 */
void sk_xb_remove(struct sk_xb *xb)
{
	mutex_lock(&xb->lock);
	xb->ops->disconnect(xb);
	if (xb->dev->state != XenbusStateClosed)
		xenbus_switch_state(xb->dev, XenbusStateClosed);
	mutex_unlock(&xb->lock);
}
SPLITKIT_EXPORT(sk_xb_remove);
