//! Readiness of one connection: its epoll interest, reads into the poll's arena, and closes the
//! kernel reports (peer close, reset, deadline).

use super::*;

impl Server {
    pub(super) fn arm(&mut self, id: i32, want: u32) {
        let epfd = self.epfd;
        if let Some(c) = self.conns.get(id) {
            if c.armed != want && epoll_op(epfd, EPOLL_CTL_MOD, c.fd, want, id as u64) == 0 {
                c.armed = want;
            }
        }
    }

    pub(super) fn ready_conn(&mut self, id: i32, mask: u32) {
        let Some(c) = self.conns.get(id) else { return };
        let (fd, paused, has_out) = (c.fd, c.paused, c.out.is_some());
        if has_out && mask & (EPOLLOUT | EPOLLERR | EPOLLHUP) != 0 {
            if let Err(e) = self.flush_out(id) {
                self.kernel_closed(id, e);
                return;
            }
        }
        if mask & (EPOLLIN | EPOLLERR | EPOLLHUP) == 0 {
            return;
        }
        let Some(c) = self.conns.get(id) else { return };
        if paused && c.state != State::Ending {
            if mask & (EPOLLERR | EPOLLHUP) != 0 {
                // Reset while paused: nothing more can be read, and epoll would report it forever.
                self.kernel_closed(id, if mask & EPOLLERR != 0 { 104 } else { 0 });
            } else {
                let want = c.armed & !EPOLLIN;
                self.arm(id, want);
            }
            return;
        }
        if c.frame_limit > 0 && c.state == State::Open {
            // Whether it read or must wait for room, epoll reports the socket again if more is there.
            self.read_framed(id, fd);
            return;
        }
        let room = self.arena.capacity() - self.arena.len();
        if room < MIN_READ_ROOM {
            return; // the arena is full: epoll reports this socket again next poll
        }
        let at = self.arena.len();
        // SAFETY: reads at most `room.min(READ_MAX)` bytes into the arena's spare capacity.
        let n = unsafe { read(fd, self.arena.as_mut_ptr().add(at) as *mut c_void, room.min(READ_MAX)) };
        if n > 0 {
            let c = self.conns.get(id).expect("checked above");
            let kind = match c.state {
                State::Fresh => {
                    c.state = State::Open;
                    EV_OPEN
                }
                State::Open => EV_DATA,
                _ => return, // after our end: discarded
            };
            // SAFETY: read initialised these n bytes.
            unsafe { self.arena.set_len(at + n as usize) };
            self.push(kind, id, n as i32);
        } else {
            self.read_nothing(id, n, if n < 0 { errno() } else { 0 });
        }
    }

    /// A read that brought no bytes (`n` 0 or -1, `err` its errno): the peer closed, or the socket
    /// failed (closed); nothing yet (EAGAIN) or interrupted waits for the next readiness.
    pub(super) fn read_nothing(&mut self, id: i32, n: isize, err: i32) {
        if n == 0 {
            self.kernel_closed(id, 0);
        } else if err != EAGAIN && err != EINTR {
            self.kernel_closed(id, err);
        }
    }

    /// The peer closed, the socket failed, or a deadline passed: close the descriptor, and tell
    /// JavaScript if it knows the connection.
    pub(super) fn kernel_closed(&mut self, id: i32, err: i32) {
        if err == 0 && self.conns.get(id).is_some_and(|c| c.out.is_some()) {
            // The peer half-closed: what we still had to say goes out first, as node:net does.
            let _ = self.flush_out(id);
        }
        let Some(c) = self.conns.get(id) else { return };
        let tell = matches!(c.state, State::Open | State::Ending);
        // SAFETY: the record owns the descriptor; it is forgotten right after.
        unsafe { close(c.fd) };
        if tell {
            self.push(EV_CLOSE, id, err);
        }
        self.conns.closed(id, tell);
    }
}
