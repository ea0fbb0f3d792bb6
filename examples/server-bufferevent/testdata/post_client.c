/* The "Libevent 服务器" post's test client, as the post gives it. Fixes made
 * so that a test can run it: PORT may be set by the test (#ifndef); and at
 * the end of its input scanf returned EOF, which the client ignored, sending
 * its last word again forever: it now stops there (close and exit 0).
 * Nothing else is changed. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>

#define IP    "127.0.0.1"
#ifndef PORT
#define PORT  8000
#endif

int main()
{
    int ret = -1;
    char buf[128] = {0};

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if(-1 == fd)
    {
        printf("create socket error! \n");
        exit(1);
    }

    struct sockaddr_in server_addr;
    memset(&server_addr, 0, sizeof(server_addr));
    server_addr.sin_family = AF_INET;            //设置tcp协议族
    server_addr.sin_port   = htons(PORT);        //设置端口号
    server_addr.sin_addr.s_addr = inet_addr(IP); //设置连接服务器ip地址

    ret = connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr));
    if(-1 == ret)
    {
        perror("connect\n");
       // printf("connect error! ret = %d \n",ret);
        close(fd);
        exit(1);
    }

    while(1)
    {
        printf("Input: \n");
        if (scanf("%s", buf) != 1)
            break;

        ret = send(fd, buf, sizeof(buf), 0);
        if(-1 == ret)
        {
	    printf("send error! \n");
            close(fd);
            exit(1);
        }
    }

    close(fd);

    return 0;
}
