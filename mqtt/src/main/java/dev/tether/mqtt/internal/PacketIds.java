package dev.tether.mqtt.internal;

/**
 * The packet identifiers of one client: PUBLISH (QoS 1 and 2), SUBSCRIBE and UNSUBSCRIBE share one space of
 * ids from 1 to 65535 (MQTT 5 §2.2.1). Ids are handed out in turn, wrapping after 65535 and skipping those
 * still in use, so a freed id is not reused at once.
 *
 * <p>Not thread-safe: used under the client's monitor.
 */
final class PacketIds {

    /** The largest packet identifier. */
    static final int MAX = 0xFFFF;

    /** The ids in use, as primitive keys (a set of boxed integers cost two objects per publish). */
    private final IntMap<Boolean> inUse = new IntMap<>();
    private int next = 1;

    /** @return a free id, now in use, or 0 if all 65535 are in use */
    int allocate() {
        if (inUse.size() >= MAX) {
            return 0;
        }
        while (inUse.containsKey(next)) {
            next = next == MAX ? 1 : next + 1;
        }
        int id = next;
        inUse.put(id, Boolean.TRUE);
        next = next == MAX ? 1 : next + 1;
        return id;
    }

    /**
     * Takes a given id (one restored from a session store).
     *
     * @return false if it is out of range or already in use
     */
    boolean reserve(int id) {
        if (id < 1 || id > MAX) {
            return false;
        }
        return inUse.put(id, Boolean.TRUE) == null;
    }

    /** Frees an id (its exchange is over); freeing an id not in use does nothing. */
    void release(int id) {
        inUse.remove(id);
    }

    /** @return how many ids are in use */
    int inUse() {
        return inUse.size();
    }

    /** @return whether the id is in use */
    boolean isInUse(int id) {
        return inUse.containsKey(id);
    }
}
