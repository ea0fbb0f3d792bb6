/* The FIFO writer of the libevent notes ("event实现本地通信"), seed
 * 000_a9cfc155e8a557e3.txt lines 1946-2003, as the notes give it, with the
 * notes' line numbers and trailing blanks taken off. One fix, so that a test
 * can run it in a directory of its own: the FIFO's path, "myfifo", is FIFO,
 * which a test defines with -DFIFO='"/tmp/.../myfifo"'. Nothing else is
 * changed: it blocks in open until a reader comes (and fails if there is no
 * FIFO yet), then writes "hello,world-N\n" and its NUL (strlen(buf)+1) per
 * write callback and sleeps a second; SIGPIPE kills it when the reader goes. */
#ifndef FIFO
#define FIFO "myfifo"
#endif
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <string.h>
#include <fcntl.h>
#include <event2/event.h>

// 对操作处理函数
void write_cb(evutil_socket_t fd, short what, void *arg)
{
    // write管道
    char buf[1024] = {0};

    static int num = 0;
    sprintf(buf, "hello,world-%d\n", num++);
    write(fd, buf, strlen(buf)+1);

    sleep(1);
}


// 写管道
int main(int argc, const char* argv[])
{
    // open file
    //int fd = open("myfifo", O_WRONLY | O_NONBLOCK);
    int fd = open(FIFO, O_WRONLY);
    if(fd == -1)
    {
        perror("open error");
        exit(1);
    }

    // 写管道
    struct event_base* base = NULL;
    base = event_base_new();

    // 创建事件
    struct event* ev = NULL;
    // 检测的写缓冲区是否有空间写
    //ev = event_new(base, fd, EV_WRITE , write_cb, NULL);
    ev = event_new(base, fd, EV_WRITE | EV_PERSIST, write_cb, NULL);

    // 添加事件
    event_add(ev, NULL);

    // 事件循环
    event_base_dispatch(base);

    // 释放资源
    event_free(ev);
    event_base_free(base);
    close(fd);

    return 0;
}
