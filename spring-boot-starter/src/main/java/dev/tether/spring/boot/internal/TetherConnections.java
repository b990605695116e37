package dev.tether.spring.boot.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** Every connection the starter built, by name, in the order they were built; listeners see each new one. */
public final class TetherConnections {

    private final Map<String, ManagedConnection> byName = new ConcurrentHashMap<>();
    private final List<ManagedConnection> ordered = new CopyOnWriteArrayList<>();
    private final List<Consumer<ManagedConnection>> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param c a connection just built
     * @throws IllegalStateException if the name is taken
     */
    public synchronized void add(ManagedConnection c) {
        if (byName.putIfAbsent(c.name(), c) != null) {
            throw new IllegalStateException("two Tether connections are named '" + c.name()
                    + "': keys of tether.mqtt.clients and tether.websocket.clients must differ");
        }
        ordered.add(c);
        for (Consumer<ManagedConnection> l : listeners) {
            l.accept(c);
        }
    }

    /**
     * Calls the listener for every connection already built and for each one built later.
     *
     * @param listener the listener
     */
    public synchronized void forEach(Consumer<ManagedConnection> listener) {
        listeners.add(listener);
        new ArrayList<>(ordered).forEach(listener);
    }

    /** @return the connections, in the order they were built */
    public List<ManagedConnection> all() {
        return List.copyOf(ordered);
    }

    /**
     * @param name a connection's name
     * @return it, or null
     */
    public @Nullable ManagedConnection get(String name) {
        return byName.get(name);
    }
}
