/* The "Libevent 服务器" post's server, as the post gives it. Fixes made so
 * that a test can run it: sin_port = 8000 lacked htons, so it listened on
 * port 16415 and its own client was refused; it is htons(PORT), PORT 8000
 * unless a test chooses a free one. Nothing else is changed. */
#ifndef PORT
#define PORT 8000
#endif
#include <stdio.h>
#include <stdlib.h>
#include <event.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <event2/listener.h>
#include <string.h>

//bufferevent对象读\写之外的事件，
void event_cb(struct bufferevent *bev, short what, void *ctx)
{
    printf("异常发生！%x \n", what);
    if(what & BEV_EVENT_EOF)  //以 ctrl+C 为例，当客户端断开，便会触发该回调类型
    {
        //printf("客户端 %d 下线\n", *(int*)ctx);  //容易传局部参数,不建议传

        printf("客户端下线\n");
        //释放bufferevent对象
        bufferevent_free(bev);
    }
    else
    {
        printf("未知错误！\n");
    }
}

//回调函数read_cb实现，读取数据。参数：bufferevent对象、回调函数入参（可将fd传入，知道当前的连接fd是谁）
void read_cb(struct bufferevent *bev, void *ctx)
{
    //int fd = *(int*)ctx;  //容易传局部参数，不建议
    //读取数据
    char buf[128] = {0};
    size_t ret =  bufferevent_read(bev, buf, sizeof(buf));
    if(0 > ret)
    {
        printf("bufferevent_read error\n");
    }
    else
    {
        //printf("read from %d %s \n", fd, buf);

        printf("read %s \n", buf);
    }
}

void listener_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr, int socklen, void *arg)
{
    printf("服务器接收 %d 的连接\n", fd);

    struct event_base *base = arg;
    //针对已经存在的socket创建bufferevent对象。实际上是将TCP连接socket与bufferevent绑定起来建立连接
    //参数：事件集合（从主函数传递过来）、fd(代表TCP连接，一个客户端一个连接，fd不同)、属性设置BEV_OPT_CLOSE_ON_FREE（如果释放bufferevent对象则关闭连接）
    struct bufferevent *bev =  bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if(NULL == bev)
    {
	printf("bufferevent_socket_new error!\n");
	exit(1);
    }

    //给bufferevent设置回调函数
    //参数：bufferevent对象、读事件回调函数、写事件回调函数、其他事件回调函数、回调函数入参（无参数用NULL，将fd地址传给回调函数）
    bufferevent_setcb(bev, read_cb, NULL, event_cb, &fd);

    //使能bufferevent对象,使bufferevent对象生效,读功能。
    bufferevent_enable(bev, EV_READ);


}

int main()
{
    //创建一个事件集合
    struct event_base *base = event_base_new();
    if(NULL == base)
    {
        printf("event_base_new error! \n");
        exit(1);
    }

    struct sockaddr_in server_addr;
    memset(&server_addr, 0, sizeof(server_addr));
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons(PORT);
    server_addr.sin_addr.s_addr = inet_addr("127.0.0.1");     

    //创建socket、绑定、监听、接受连接；创建监听对象，在指定的地址上监听接下来的TCP连接
    //参数：监听集合、回调函数(连接到来会触发调用)、回调参数、属性设置(释放监听对象关闭socket|端口重复使用、接收队列长度、绑定接收地址、地址长度
    struct evconnlistener *listener =  evconnlistener_new_bind(base, listener_cb, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 10, (struct sockaddr *)&server_addr, sizeof(server_addr));
    if(NULL == listener)
    {
	printf("evconnlistener_new_bind error! \n");
	exit(1);
    }

    //监听集合中的事件
    event_base_dispatch(base);

    //释放两个对象,base对象和监听对象
    evconnlistener_free(listener);
    event_base_free(base);



    return 0;
 }
