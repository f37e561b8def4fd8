// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: the xenbus state machine as a pure function.
 *
 * Given which end we are, our XenStore state and the peer's, sk_xb_next()
 * says what to do; ring/xbstate.c performs it, switches state and asks
 * again until the answer is SK_XB_NONE.  Asking again is what makes
 * skipped states harmless (a frontend that missed InitWait and sees the
 * backend Connected still connects; a peer whose Closed we never saw and
 * that is already starting over makes us close, reset and set up in one
 * go), and every answer for a state pair we are already settled in is
 * SK_XB_NONE, which makes repeated or spurious watch events harmless.
 *
 * One rule prevents attaching to stale rings when an end is rebound faster
 * than its peer notices: an end never sets up or maps rings while its peer
 * still shows Connected from an earlier connection; it waits for the peer
 * to close and start over.  The peer's state is peer-written: values
 * outside the enum close the device.
 */
#include <splitkit/ring_core.h>

/* Connected, or in the middle of a reconfiguration of the connection. */
static bool sk_xb_reconf(u32 local)
{
	return local == SK_XB_RECONFIGURING || local == SK_XB_RECONFIGURED;
}

/*
 * Reconfiguration (either end): a Connected end whose peer enters
 * Reconfiguring adapts (SK_XB_RECONFIGURE) and says Reconfigured; the end
 * that started it (sk_xb_reconfigure(), Reconfiguring) returns to Connected
 * when the peer says Reconfigured, the other end when the peer is back in
 * Connected.
 */
static enum sk_xb_action sk_xb_reconf_step(u32 local, u32 peer)
{
	if (peer == SK_XB_RECONFIGURING)
		return local == SK_XB_CONNECTED ? SK_XB_RECONFIGURE :
						  SK_XB_NONE;
	if (peer == SK_XB_RECONFIGURED)
		return local == SK_XB_RECONFIGURING ? SK_XB_RECONNECT :
						      SK_XB_NONE;
	/* peer Connected */
	return local == SK_XB_RECONFIGURED ? SK_XB_RECONNECT : SK_XB_NONE;
}

static enum sk_xb_action sk_xb_front(u32 local, u32 peer)
{
	bool live = local == SK_XB_INITIALISED || local == SK_XB_CONNECTED ||
		    sk_xb_reconf(local);

	switch (peer) {
	case SK_XB_UNKNOWN:
		/* the backend vanished */
		return live || local == SK_XB_CLOSING ? SK_XB_CLOSE :
						       SK_XB_NONE;
	case SK_XB_INITIALISING:
		if (local == SK_XB_CLOSED)
			return SK_XB_RESET;
		/* a backend starting over under a live ring */
		return live || local == SK_XB_CLOSING ? SK_XB_CLOSE :
						       SK_XB_NONE;
	case SK_XB_INITWAIT:
	case SK_XB_INITIALISED:
		if (local == SK_XB_INITIALISING)
			return SK_XB_SETUP;
		if (local == SK_XB_CLOSED)
			return SK_XB_RESET;
		return local == SK_XB_INITIALISED ? SK_XB_NONE : SK_XB_CLOSE;
	case SK_XB_CONNECTED:
		/*
		 * Before we published rings a Connected backend is still on
		 * an earlier connection: wait until it closes and resets.
		 */
		if (local == SK_XB_INITIALISED)
			return SK_XB_CONNECT;
		return sk_xb_reconf_step(local, peer);
	case SK_XB_CLOSING:
	case SK_XB_CLOSED:
		/*
		 * A fresh frontend (rebound) waits in Initialising for the
		 * closed backend to see it and reset: closing it as well
		 * would leave both ends Closed for good.
		 */
		return local == SK_XB_CLOSED || local == SK_XB_INITIALISING ?
		       SK_XB_NONE : SK_XB_CLOSE;
	case SK_XB_RECONFIGURING:
	case SK_XB_RECONFIGURED:
		return sk_xb_reconf_step(local, peer);
	default:
		return local == SK_XB_CLOSED ? SK_XB_NONE : SK_XB_CLOSE;
	}
}

/* A backend that is waiting for a frontend, with nothing set up. */
static bool sk_xb_back_waiting(u32 local)
{
	return local == SK_XB_INITWAIT || local == SK_XB_INITIALISING;
}

static enum sk_xb_action sk_xb_back(u32 local, u32 peer)
{
	bool live = local == SK_XB_CONNECTED || local == SK_XB_CLOSING ||
		    sk_xb_reconf(local);

	switch (peer) {
	case SK_XB_UNKNOWN:
		/*
		 * The frontend vanished: its domain is being destroyed (the
		 * toolstack removes the frontend's directory, then waits for
		 * us to say Closed; libxl gives up only after 10 s).  A
		 * backend still waiting for it closes too: no frontend is
		 * left to start over with.
		 */
		return live || sk_xb_back_waiting(local) ? SK_XB_CLOSE :
							 SK_XB_NONE;
	case SK_XB_INITIALISING:
	case SK_XB_INITWAIT:
		if (local == SK_XB_CLOSED)
			return SK_XB_RESET;
		return live ? SK_XB_CLOSE : SK_XB_NONE;
	case SK_XB_INITIALISED:
		if (local == SK_XB_INITWAIT || local == SK_XB_INITIALISING ||
		    local == SK_XB_INITIALISED)
			return SK_XB_CONNECT;
		if (local == SK_XB_CLOSED)
			return SK_XB_RESET;
		/* a frontend that reconnected while we were closing */
		return local == SK_XB_CLOSING ? SK_XB_CLOSE : SK_XB_NONE;
	case SK_XB_CONNECTED:
		/*
		 * A frontend only connects after we did: one that is Connected
		 * while we are not still runs on an earlier backend's rings.
		 * Wait until it sees us, closes and sets up fresh rings.
		 */
		if (local == SK_XB_CLOSED)
			return SK_XB_RESET;
		if (local == SK_XB_CLOSING)
			return SK_XB_CLOSE;
		return sk_xb_reconf_step(local, peer);
	/*
	 * A fresh backend (rebound) waits in InitWait for a closed frontend
	 * to see it and start over, like the frontend case above.
	 */
	case SK_XB_CLOSING:
		return local == SK_XB_CLOSING || local == SK_XB_CLOSED ||
		       sk_xb_back_waiting(local) ? SK_XB_NONE : SK_XB_DISCONNECT;
	case SK_XB_CLOSED:
		return local == SK_XB_CLOSED || sk_xb_back_waiting(local) ?
		       SK_XB_NONE : SK_XB_CLOSE;
	case SK_XB_RECONFIGURING:
	case SK_XB_RECONFIGURED:
		return sk_xb_reconf_step(local, peer);
	default:
		return local == SK_XB_CLOSED ? SK_XB_NONE : SK_XB_CLOSE;
	}
}

/**
 * sk_xb_next() - decide the next step of one end of a xenbus device.
 * @frontend: true for the frontend, false for the backend.
 * @local: our current state (an enum sk_xb_state value).
 * @peer: the state the peer wrote, any value.
 *
 * Return: the action to perform; SK_XB_NONE once settled.
 */
enum sk_xb_action sk_xb_next(bool frontend, u32 local, u32 peer)
{
	if (local >= SK_XB_NR_STATES)
		return SK_XB_CLOSE;
	return frontend ? sk_xb_front(local, peer) : sk_xb_back(local, peer);
}

/**
 * sk_xb_target() - the state an end enters after performing an action.
 * @frontend: true for the frontend, false for the backend.
 * @act: the action performed.
 *
 * Return: the new state; SK_XB_UNKNOWN for SK_XB_NONE (no change).
 */
enum sk_xb_state sk_xb_target(bool frontend, enum sk_xb_action act)
{
	switch (act) {
	case SK_XB_SETUP:
		return SK_XB_INITIALISED;
	case SK_XB_CONNECT:
		return SK_XB_CONNECTED;
	case SK_XB_DISCONNECT:
		return SK_XB_CLOSING;
	case SK_XB_CLOSE:
		return SK_XB_CLOSED;
	case SK_XB_RESET:
		return frontend ? SK_XB_INITIALISING : SK_XB_INITWAIT;
	case SK_XB_RECONFIGURE:
		return SK_XB_RECONFIGURED;
	case SK_XB_RECONNECT:
		return SK_XB_CONNECTED;
	case SK_XB_NONE:
	default:
		return SK_XB_UNKNOWN;
	}
}
