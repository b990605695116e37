package dev.tether.mqtt.test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * A file system with a quota for H2 MVStore, without root: files opened as {@code quota:/path} are real files,
 * but a write that would make a file larger than the quota writes what fits and fails with "No space left on
 * device", as a full disk does. The quota and the free space it leaves are global and can be raised at any time
 * ("space was freed").
 */
public final class QuotaFileSystem extends FilePathWrapper {

    /** The prefix of file names on this file system. */
    public static final String PREFIX = "quota:";

    private static final AtomicLong QUOTA = new AtomicLong(Long.MAX_VALUE);
    private static final AtomicLong SIZE = new AtomicLong();

    static {
        FilePath.register(new QuotaFileSystem());
    }

    /** Registers the file system with H2 (once). */
    public static void register() {
        // The static initializer did it.
    }

    /** @param bytes the largest size a file may grow to */
    public static void quota(long bytes) {
        QUOTA.set(bytes);
    }

    /** @return the space left under the quota by the file written last */
    public static long free() {
        return Math.max(0, QUOTA.get() - SIZE.get());
    }

    @Override
    public String getScheme() {
        return "quota";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(getBase().open(mode));
    }

    /** Writes through to the real file, up to the quota. */
    private static final class Channel extends FileBase {
        private final FileChannel base;

        Channel(FileChannel base) throws IOException {
            this.base = base;
            SIZE.set(base.size());
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public synchronized int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return write(src, base.position());
        }

        @Override
        public synchronized int write(ByteBuffer src, long position) throws IOException {
            long room = QUOTA.get() - position;
            if (src.remaining() > room) {
                if (room > 0) {
                    ByteBuffer part = src.duplicate();
                    part.limit(part.position() + (int) room);
                    base.write(part, position);
                    SIZE.set(base.size());
                }
                throw new IOException("No space left on device (quota of " + QUOTA.get() + " bytes)");
            }
            int n = base.write(src, position);
            SIZE.set(base.size());
            return n;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long newLength) throws IOException {
            base.truncate(newLength);
            SIZE.set(base.size());
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}
