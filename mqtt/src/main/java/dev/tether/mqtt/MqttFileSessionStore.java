package dev.tether.mqtt;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.jspecify.annotations.Nullable;

/**
 * A durable {@link MqttSessionStore} in one H2 MVStore file: survives a crash of the process (and, with
 * {@link Builder#forceToDisk(boolean)}, of the machine), so publishes accepted before a {@code kill -9} are
 * sent after the restart.
 *
 * <p>Durability: by default each accepted message is committed to the file before {@code publish()} goes on
 * (the subscription to its {@code Mono} returns after the commit), and the commit is written to the operating
 * system but not forced to the disk: a process crash loses nothing, a power loss may lose the last commits.
 * {@link Builder#forceToDisk(boolean)} forces each commit to the disk (fsync);
 * {@link Builder#groupCommit(Duration)} commits accepted messages together at most that long after
 * {@code publish()} accepted them (faster; a crash loses what was accepted since the last commit). In every
 * mode a QoS 2 packet id and its PUBREL state are committed before the packet that depends on them is flushed,
 * so a restart never turns one QoS 2 message into two. Removals of finished publishes ride on the next commit:
 * after a crash a few finished QoS 1 publishes may be sent again (QoS 1 allows it), finished QoS 2 ones end
 * with a PUBREL the broker answers.
 *
 * <p>It also keeps the subscriptions the broker granted and the session settings it was written for (see
 * {@link MqttSessionStore}). Memory does not grow with the file: {@link #open} reads only the publishes that had a
 * packet id, and the client reads the others page by page with {@link #waiting} as it sends them.
 *
 * <p>The file is locked while open: a second process (or a second client in this one) opening it is refused
 * with {@link MqttSessionStoreException}. A file written for another client id, or a file that is not a
 * store, is refused the same way; it is never overwritten.
 *
 * <p>A full disk fails the publish being stored with {@link MqttSessionStoreException} naming the file, never
 * the client, and later publishes are stored again once there is room, without a restart. A publish is refused
 * before anything is written while the file system has less than {@link Builder#freeSpaceReserve(long)} free,
 * so the store normally never reaches a failed write. If a write fails all the same, MVStore stops itself (the
 * file keeps the last commit); the store is opened again by the next publish once the reserve is free again.
 * With group commit the failed write may be the timer's: the publishes accepted since the last commit are then
 * still sent by this process but no longer in the file.
 *
 * <p>Thread-safe.
 */
public final class MqttFileSessionStore implements MqttSessionStore {

    /** The default of {@link Builder#freeSpaceReserve(long)}: 1 MiB. */
    public static final long DEFAULT_FREE_SPACE_RESERVE = 1L << 20;

    /** The format written in the store's metadata. */
    public static final String FORMAT = "tether-mqtt-session-store/1";

    private static final String META = "meta";
    private static final String PUBLISHES = "publishes";
    private static final String STATES = "states";
    private static final String INBOUND = "inbound-qos2";
    private static final String SUBSCRIPTIONS = "subscriptions";
    private static final byte MESSAGE_VERSION = 1;

    private final Path file;
    private final @Nullable Duration groupCommit;
    private final boolean forceToDisk;
    private @Nullable MVStore store;
    private @Nullable MVMap<Long, byte[]> publishes;
    private @Nullable MVMap<Long, Integer> states;
    private @Nullable MVMap<Integer, Boolean> inbound;
    private @Nullable MVMap<String, byte[]> subscriptionMap;
    private final String fileName;
    private final long freeSpaceReserve;
    private final java.util.function.@Nullable LongSupplier usableSpace;
    private int recoveries;
    private java.nio.file.@Nullable FileStore fileSystem;
    private long lastFree;
    private long lastFreeAt;
    private static final long FREE_SPACE_REUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private @Nullable ScheduledExecutorService committer;
    private long nextKey;

    private final Builder settings;

    private MqttFileSessionStore(Builder b) {
        this.settings = new Builder(b);
        this.file = b.file;
        this.fileName = b.fileName != null ? b.fileName : b.file.toString();
        this.freeSpaceReserve = b.freeSpaceReserve;
        this.usableSpace = b.usableSpace;
        this.groupCommit = b.groupCommit;
        this.forceToDisk = b.forceToDisk;
    }

    /**
     * @param file the store file (created if missing; its directory must exist)
     * @return a builder with the defaults: commit per message, not forced to disk
     */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    /**
     * @return a builder prefilled with this store's settings, the file included (a store on a file another
     *         open store holds is refused: change the file for a second store used at the same time)
     */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /** @return the store's file */
    public Path file() {
        return file;
    }

    @Override
    public synchronized Contents open(SessionSettings settings) {
        Objects.requireNonNull(settings, "settings");
        String clientId = settings.clientId();
        if (clientId.isEmpty()) {
            throw new MqttSessionStoreException(file, "the session store " + file + " needs a fixed client id, "
                    + "but the client id is empty (broker-assigned)", null);
        }
        if (store != null) {
            throw new MqttSessionStoreException(file, "the session store " + file + " is already open", null);
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new MqttSessionStoreException(file, "cannot open the session store " + file + ": the directory "
                    + parent + " does not exist", null);
        }
        boolean existed = Files.exists(file);
        MVStore s = openFile();
        try {
            MVMap<String, String> meta = s.openMap(META);
            String format = meta.get("format");
            List<String> notices = new ArrayList<>();
            if (format == null) {
                if (existed && !s.getMapNames().equals(java.util.Set.of(META))) {
                    throw new MqttSessionStoreException(file, "the file " + file + " is an MVStore but not a Tether "
                            + "session store (maps " + s.getMapNames() + "); it was left as it is", null);
                }
                meta.put("format", FORMAT);
                meta.put("clientId", clientId);
                meta.put("created", java.time.Instant.now().toString());
            } else if (!FORMAT.equals(format)) {
                throw new MqttSessionStoreException(file, "the session store " + file + " has format '" + format
                        + "', expected '" + FORMAT + "'; it was left as it is", null);
            } else if (!clientId.equals(meta.get("clientId"))) {
                throw new MqttSessionStoreException(file, "the session store " + file + " belongs to client id '"
                        + meta.get("clientId") + "', not '" + clientId + "'; it was left as it is (use another file "
                        + "or the same client id)", null);
            } else {
                compare(meta, settings, notices);
            }
            record(meta, settings);
            MVMap<Long, byte[]> p = s.openMap(PUBLISHES);
            MVMap<Long, Integer> st = s.openMap(STATES);
            MVMap<Integer, Boolean> in = s.openMap(INBOUND);
            MVMap<String, byte[]> subs = s.openMap(SUBSCRIPTIONS);
            // Only the publishes with a packet id are read now (at most 65535): the others are paged by waiting().
            List<StoredPublish> inFlight = new ArrayList<>(st.size());
            for (Map.Entry<Long, Integer> e : st.entrySet()) {
                byte[] data = p.get(e.getKey());
                if (data == null) {
                    continue;
                }
                int v = e.getValue();
                inFlight.add(new StoredPublish(e.getKey(), decode(data), Math.abs(v), v < 0));
            }
            long waiting = p.sizeAsLong() - inFlight.size();
            List<MqttSubscription> subscriptions = new ArrayList<>(subs.size());
            for (byte[] data : subs.values()) {
                subscriptions.add(decodeSubscription(data));
            }
            Long last = p.lastKey();
            long lastKey = last == null ? 0 : last;
            nextKey = lastKey + 1;
            java.util.Set<Integer> inboundIds = java.util.Set.copyOf(in.keySet());
            s.commit();
            store = s;
            publishes = p;
            states = st;
            inbound = in;
            subscriptionMap = subs;
            startCommitter();
            return new Contents(inFlight, waiting, lastKey, subscriptions, inboundIds, notices);
        } catch (MqttSessionStoreException e) {
            s.closeImmediately();
            throw e;
        } catch (MVStoreException e) {
            s.closeImmediately();
            throw new MqttSessionStoreException(file, describe(e), e);
        } catch (RuntimeException e) {
            s.closeImmediately();
            throw new MqttSessionStoreException(file, "the session store " + file + " cannot be read (" + e
                    + "); it was left as it is", e);
        }
    }

    private MVStore openFile() {
        try {
            MVStore s = new MVStore.Builder().fileName(fileName).autoCommitDisabled().open();
            s.setRetentionTime(0);
            s.setVersionsToKeep(0);
            return s;
        } catch (MVStoreException e) {
            throw new MqttSessionStoreException(file, describe(e), e);
        } catch (RuntimeException e) {
            throw new MqttSessionStoreException(file, "cannot open the session store " + file + ": " + e, e);
        }
    }

    private void startCommitter() {
        if (groupCommit != null && committer == null) {
            ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tether-session-store-commit");
                t.setDaemon(true);
                return t;
            });
            long nanos = groupCommit.toNanos();
            ex.scheduleWithFixedDelay(this::commitQuietly, nanos, nanos, TimeUnit.NANOSECONDS);
            committer = ex;
        }
    }

    /** Says which recorded settings differ from the client's: none of them makes the store unusable. */
    private void compare(MVMap<String, String> meta, SessionSettings now, List<String> notices) {
        String was = meta.get("version");
        if (was != null && !was.equals(now.version().name())) {
            notices.add("the session store " + file + " was written by a client asking for " + was + "; this one asks "
                    + "for " + now.version() + " (publishes and subscriptions carry over; packet ids are resent only if the "
                    + "broker kept the session)");
        }
        was = meta.get("cleanStart");
        if (was != null && !was.equals(Boolean.toString(now.cleanStart()))) {
            notices.add("the session store " + file + " was written with cleanStart(" + was + "); this client uses "
                    + "cleanStart(" + now.cleanStart() + ")" + (now.cleanStart() ? ": the broker drops the session at "
                    + "each connection, so what was in flight is sent again as new publishes" : ""));
        }
        was = meta.get("sessionExpiry");
        if (was != null && !was.equals(now.sessionExpiry().toString())) {
            notices.add("the session store " + file + " was written with sessionExpiry " + was + "; this client uses "
                    + now.sessionExpiry());
        }
        was = meta.get("endpoints");
        String endpoints = String.join(" ", now.endpoints());
        if (was != null && !was.equals(endpoints)) {
            notices.add("the session store " + file + " was written for the endpoints [" + was + "]; this client uses ["
                    + endpoints + "] (a broker that does not know the session gets what was in flight as new "
                    + "publishes, and the subscriptions again)");
        }
    }

    private static void record(MVMap<String, String> meta, SessionSettings now) {
        meta.put("version", now.version().name());
        meta.put("cleanStart", Boolean.toString(now.cleanStart()));
        meta.put("sessionExpiry", now.sessionExpiry().toString());
        meta.put("endpoints", String.join(" ", now.endpoints()));
    }

    @Override
    public synchronized List<StoredPublish> waiting(long afterKey, long upToKey, int max) {
        if (max <= 0 || afterKey >= upToKey) {
            return List.of();
        }
        MVMap<Long, byte[]> p = requireOpen(publishes);
        MVMap<Long, Integer> st = requireOpen(states);
        List<StoredPublish> out = new ArrayList<>(Math.min(max, 1024));
        org.h2.mvstore.Cursor<Long, byte[]> c = p.cursor(afterKey + 1, upToKey, false);
        while (out.size() < max && c.hasNext()) {
            Long key = c.next();
            if (!st.containsKey(key)) {
                out.add(new StoredPublish(key, decode(c.getValue()), 0, false));
            }
        }
        return out;
    }

    @Override
    public synchronized long add(MqttMessage message) {
        if (stopped()) {
            recover(message.topic());
        }
        byte[] data = encode(message);
        long free = usableSpace();
        if (free - data.length < freeSpaceReserve) {
            throw new MqttSessionStoreException(file, "the publish to '" + message.topic() + "' could not be stored: the "
                    + "file system of the session store " + file + " has " + free + " bytes free, and storing its "
                    + data.length + " bytes would leave less than the reserve of " + freeSpaceReserve + " bytes (disk "
                    + "full); the client goes on, and publishes are stored again once there is room", null);
        }
        long key = nextKey++;
        try {
            MVMap<Long, byte[]> p = requireOpen(publishes);
            p.put(key, data);
            if (groupCommit == null) {
                commit();
            }
        } catch (RuntimeException e) {
            try {
                MVMap<Long, byte[]> p = publishes;
                if (p != null && !p.isClosed()) {
                    p.remove(key);
                }
            } catch (RuntimeException ignored) {
                // The store stopped after the failed write.
            }
            throw new MqttSessionStoreException(file, "the publish to '" + message.topic() + "' could not be stored in "
                    + file + ": " + (e instanceof MVStoreException m ? describe(m) : e.toString())
                    + "; the client goes on, and publishes are stored again once there is room", e);
        }
        return key;
    }

    /**
     * MVStore stops (closes itself) after a failed write, e.g. on a full disk; the file keeps the last commit. It
     * is opened again only once the file system has the reserve free again: writing to a full disk again and
     * again could cost commits made before.
     */
    private void recover(String topic) {
        long free = usableSpace();
        if (free < freeSpaceReserve) {
            throw new MqttSessionStoreException(file, "the publish to '" + topic + "' could not be stored: the session "
                    + "store " + file + " stopped after a failed write (disk full) and its file system has " + free
                    + " bytes free, less than the reserve of " + freeSpaceReserve + " bytes; what it committed before "
                    + "is kept, and publishes are stored again once there is room", null);
        }
        MVStore old = store;
        if (old != null) {
            old.closeImmediately();
        }
        MVStore s = openFile();
        try {
            MVMap<Long, byte[]> p = s.openMap(PUBLISHES);
            MVMap<Long, Integer> st = s.openMap(STATES);
            MVMap<Integer, Boolean> in = s.openMap(INBOUND);
            MVMap<String, byte[]> subs = s.openMap(SUBSCRIPTIONS);
            Long last = p.lastKey();
            nextKey = Math.max(nextKey, last == null ? 1 : last + 1);
            store = s;
            publishes = p;
            states = st;
            inbound = in;
            subscriptionMap = subs;
            recoveries++;
        } catch (RuntimeException e) {
            s.closeImmediately();
            throw new MqttSessionStoreException(file, "the session store " + file + " stopped after a failed write and "
                    + "cannot be opened again: " + (e instanceof MVStoreException m ? describe(m) : e.toString()), e);
        }
    }

    /** @return how many times the store was opened again after a failed write (for tests) */
    synchronized int recoveries() {
        return recoveries;
    }

    private long usableSpace() {
        if (freeSpaceReserve == 0) {
            return Long.MAX_VALUE;
        }
        java.util.function.LongSupplier supplier = usableSpace;
        if (supplier != null) {
            return supplier.getAsLong();
        }
        // Finding the file system (the mount table) is slow, asking it for its free space (statfs) is not; with
        // plenty of room the answer is reused for a few milliseconds.
        long now = System.nanoTime();
        if (lastFree > 4 * freeSpaceReserve && now - lastFreeAt < FREE_SPACE_REUSE_NANOS) {
            return lastFree;
        }
        try {
            java.nio.file.FileStore fs = fileSystem;
            if (fs == null) {
                Path dirOfFile = file.toAbsolutePath().getParent();
                fs = Files.getFileStore(dirOfFile == null ? file.toAbsolutePath() : dirOfFile);
                fileSystem = fs;
            }
            lastFree = fs.getUsableSpace();
        } catch (IOException | RuntimeException e) {
            lastFree = Long.MAX_VALUE; // unknown: let the write decide
        }
        lastFreeAt = now;
        return lastFree;
    }

    /**
     * @return whether the store stopped after a write failure (it opens again on the next {@link #add} once there
     *         is room)
     */
    private boolean stopped() {
        MVStore s = store;
        return s != null && s.isClosed();
    }

    @Override
    public synchronized void sent(long key, int packetId, MqttQos qos) {
        if (stopped()) {
            return;
        }
        MVMap<Long, Integer> st = requireOpen(states);
        if (packetId == 0) {
            st.remove(key);
        } else {
            st.put(key, packetId);
        }
        if (qos == MqttQos.EXACTLY_ONCE) {
            commit();
        }
    }

    @Override
    public synchronized void released(long key) {
        if (stopped()) {
            return;
        }
        MVMap<Long, Integer> st = requireOpen(states);
        Integer id = st.get(key);
        if (id != null && id > 0) {
            st.put(key, -id);
        }
        commit();
    }

    @Override
    public synchronized void remove(long key) {
        if (stopped()) {
            return;
        }
        requireOpen(publishes).remove(key);
        requireOpen(states).remove(key);
    }

    @Override
    public synchronized void inboundAwaitingPubrel(int packetId) {
        if (stopped()) {
            return;
        }
        requireOpen(inbound).put(packetId, Boolean.TRUE);
        if (groupCommit == null) {
            commit();
        }
    }

    @Override
    public synchronized void inboundReleased(int packetId) {
        if (stopped()) {
            return;
        }
        MVMap<Integer, Boolean> in = requireOpen(inbound);
        if (packetId == 0) {
            in.clear();
        } else {
            in.remove(packetId);
        }
        if (groupCommit == null) {
            commit();
        }
    }

    @Override
    public synchronized void subscribed(MqttSubscription subscription) {
        if (stopped()) {
            return;
        }
        requireOpen(subscriptionMap).put(subscription.topicFilter(), encode(subscription));
        if (groupCommit == null) {
            commit();
        }
    }

    @Override
    public synchronized void unsubscribed(String topicFilter) {
        if (stopped()) {
            return;
        }
        if (requireOpen(subscriptionMap).remove(topicFilter) != null && groupCommit == null) {
            commit();
        }
    }

    @Override
    public void close() {
        ScheduledExecutorService ex;
        synchronized (this) {
            ex = committer;
            committer = null;
        }
        if (ex != null) {
            // Not shutdownNow(): an interrupt during the commit's write closes MVStore's file channel (an
            // interruptible channel), and MVStore stops with a failed write. The commit in progress ends first.
            ex.shutdown();
            try {
                if (!ex.awaitTermination(30, TimeUnit.SECONDS)) {
                    ex.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeStore();
    }

    private synchronized void closeStore() {
        MVStore s = store;
        store = null;
        publishes = null;
        states = null;
        inbound = null;
        subscriptionMap = null;
        if (s != null && !s.isClosed()) {
            // Commit, then close without MVStore's close-time maintenance: it moves chunks and shrinks the file,
            // which needs free space, and after a failed write (disk full) it lost committed publishes here
            // (13 of 59 on a full tmpfs, every time), while a commit and closeImmediately() lost none. The file is
            // then opened as after a crash, which is the path a kill -9 takes anyway.
            try {
                s.commit();
                if (forceToDisk) {
                    s.sync();
                }
            } catch (RuntimeException e) {
                // A last write failed (disk full): what was committed before stays.
            } finally {
                s.closeImmediately();
            }
        }
    }

    @Override
    public String toString() {
        return "MqttFileSessionStore[" + file + (groupCommit == null ? ", commit per message" : ", group commit "
                + groupCommit) + (forceToDisk ? ", forced to disk]" : ", written, not forced]");
    }

    // ------------------------------------------------------------------ internals

    /** The group commit, on its own thread: MVStore commits concurrently with changes, so the client never waits. */
    private void commitQuietly() {
        MVStore s;
        synchronized (this) {
            s = store;
        }
        if (s != null && !s.isClosed() && s.hasUnsavedChanges()) {
            try {
                s.commit();
                if (forceToDisk) {
                    s.sync();
                }
            } catch (RuntimeException e) {
                // The next explicit commit reports it to the publish that needs it.
            }
        }
    }

    private void commit() {
        MVStore s = requireOpen(store);
        s.commit();
        if (forceToDisk) {
            s.sync();
        }
    }

    private <T> T requireOpen(@Nullable T part) {
        if (part == null) {
            throw new MqttSessionStoreException(file, "the session store " + file + " is not open", null);
        }
        return part;
    }

    private String describe(MVStoreException e) {
        int code = e.getErrorCode();
        return switch (code) {
            case DataUtils.ERROR_FILE_LOCKED -> "the session store " + file + " is locked: another process (or another "
                    + "client in this one) has it open";
            case DataUtils.ERROR_FILE_CORRUPT, DataUtils.ERROR_UNSUPPORTED_FORMAT, DataUtils.ERROR_CHUNK_NOT_FOUND,
                 DataUtils.ERROR_BLOCK_NOT_FOUND, DataUtils.ERROR_READING_FAILED -> "the session store " + file
                    + " is corrupt or not a session store; it was left as it is (" + e.getMessage() + ")";
            case DataUtils.ERROR_WRITING_FAILED -> "cannot write the session store " + file + " (disk full or "
                    + "not writable): " + e.getMessage();
            default -> "the session store " + file + " failed: " + e.getMessage();
        };
    }

    static byte[] encode(MqttMessage m) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + m.payloadSize());
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(MESSAGE_VERSION);
            out.writeUTF(m.topic());
            out.writeByte(m.qos().value());
            out.writeBoolean(m.retain());
            String contentType = m.contentType().orElse(null);
            out.writeBoolean(contentType != null);
            if (contentType != null) {
                out.writeUTF(contentType);
            }
            out.writeInt(m.userProperties().size());
            for (Map.Entry<String, String> e : m.userProperties().entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            byte[] payload = m.payload();
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static MqttMessage decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int version = in.readByte();
            if (version != MESSAGE_VERSION) {
                throw new IllegalStateException("unknown stored message version " + version);
            }
            MqttMessage.Builder b = MqttMessage.builder(in.readUTF());
            b.qos(MqttQos.of(in.readByte()));
            b.retain(in.readBoolean());
            if (in.readBoolean()) {
                b.contentType(in.readUTF());
            }
            int props = in.readInt();
            for (int i = 0; i < props; i++) {
                b.userProperty(in.readUTF(), in.readUTF());
            }
            byte[] payload = new byte[in.readInt()];
            in.readFully(payload);
            return b.payload(payload).build();
        } catch (IOException e) {
            throw new IllegalStateException("a stored message cannot be read: " + e, e);
        }
    }

    static byte[] encode(MqttSubscription sub) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + sub.topicFilter().length());
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(MESSAGE_VERSION);
            out.writeUTF(sub.topicFilter());
            out.writeByte(sub.qos().value());
            out.writeBoolean(sub.noLocal());
            out.writeBoolean(sub.retainAsPublished());
            out.writeByte(sub.retainHandling().ordinal());
            out.writeInt(sub.subscriptionIdentifier().orElse(0));
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static MqttSubscription decodeSubscription(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int version = in.readByte();
            if (version != MESSAGE_VERSION) {
                throw new IllegalStateException("unknown stored subscription version " + version);
            }
            MqttSubscription.Builder b = MqttSubscription.builder(in.readUTF()).qos(MqttQos.of(in.readByte()));
            b.noLocal(in.readBoolean());
            b.retainAsPublished(in.readBoolean());
            b.retainHandling(RetainHandling.values()[in.readByte()]);
            int id = in.readInt();
            if (id != 0) {
                b.subscriptionIdentifier(id);
            }
            return b.build();
        } catch (IOException e) {
            throw new IllegalStateException("a stored subscription cannot be read: " + e, e);
        }
    }

    /**
     * Settings of a {@link MqttFileSessionStore}; each setter checks its value.
     */
    public static final class Builder {
        private final Path file;
        private @Nullable Duration groupCommit;
        private boolean forceToDisk;
        private @Nullable String fileName;
        private long freeSpaceReserve = DEFAULT_FREE_SPACE_RESERVE;
        private java.util.function.@Nullable LongSupplier usableSpace;

        private Builder(Builder b) {
            this(b.file);
            groupCommit = b.groupCommit;
            forceToDisk = b.forceToDisk;
            fileName = b.fileName;
            freeSpaceReserve = b.freeSpaceReserve;
            usableSpace = b.usableSpace;
        }

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        /**
         * Commits accepted messages together instead of one by one. A message is safe at the first commit after
         * {@code publish()} accepted it, at most {@code interval} later; the acknowledgement of a publish always
         * comes after its commit. Default: commit per message.
         *
         * @param interval the longest time between a message's acceptance and its commit, from 1 ms to 10 s
         * @return this builder
         */
        public Builder groupCommit(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("groupCommit interval must be between 1 ms and 10 s, but was "
                        + interval);
            }
            this.groupCommit = interval;
            return this;
        }

        /**
         * @param force whether each commit is forced to the disk (fsync; survives a power loss, much slower) or
         *              only written to the operating system (survives a crash of the process). Default: false
         * @return this builder
         */
        public Builder forceToDisk(boolean force) {
            this.forceToDisk = force;
            return this;
        }

        /**
         * The name MVStore opens instead of the path, e.g. with a file system prefix of H2's {@code FilePath}
         * (for tests that need a file system with a quota).
         */
        Builder mvStoreFileName(String name) {
            this.fileName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * A publish is stored only while the store's file system has at least this much space free; below it the
         * publish fails with {@link MqttSessionStoreException} before anything is written, so the store never
         * fills the disk to the last byte (MVStore stops itself after a failed write). Default 1 MiB.
         *
         * @param bytes the space to keep free, 0 to let the write itself fail
         * @return this builder
         */
        public Builder freeSpaceReserve(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("freeSpaceReserve must not be negative, but was " + bytes);
            }
            this.freeSpaceReserve = bytes;
            return this;
        }

        /** Where the free space is read from instead of the file system of the file (for tests). */
        Builder usableSpace(java.util.function.LongSupplier space) {
            this.usableSpace = Objects.requireNonNull(space, "space");
            return this;
        }

        /** @return the store, not open yet (the client opens it in {@code start()}) */
        public MqttFileSessionStore build() {
            return new MqttFileSessionStore(this);
        }
    }
}
